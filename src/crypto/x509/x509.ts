// The polyfill first: ESM evaluates imports in order, and @peculiar/x509 checks for it on load.
import 'reflect-metadata';

export {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  X509Certificate,
} from '@peculiar/x509';
