import { SubjectAlternativeNameExtension, type X509Certificate } from './x509.js';

/** What certificate constraints look at, read as Go's crypto/x509 exposes it. */
export interface CertificateAttributes {
  /** The subject's common name ('' when there is none). */
  readonly commonName: string;
  /** The subject's organization (O) values. */
  readonly organizations: readonly string[];
  /** Subject alternative names, by kind. */
  readonly dnsNames: readonly string[];
  /** rfc822Name SANs only (an emailAddress in the subject is not one, as in Go). */
  readonly emails: readonly string[];
  readonly uris: readonly string[];
  /** The whole subject, RFC 4514 text (for messages and as an identity when there is no URI). */
  readonly subject: string;
}

/**
 * The names of a certificate that signer constraints are written against.
 *
 * @example certificateAttributes(leaf).uris // ['spiffe://corp.example/ci/builder']
 */
export function certificateAttributes(cert: X509Certificate): CertificateAttributes {
  const names = cert.getExtension(SubjectAlternativeNameExtension)?.names.items ?? [];
  const ofType = (type: string) => names.filter((n) => n.type === type).map((n) => n.value);
  return {
    // Go takes the last CN when there are several
    commonName: cert.subjectName.getField('CN').at(-1) ?? '',
    organizations: cert.subjectName.getField('O'),
    dnsNames: ofType('dns'),
    emails: ofType('email'),
    uris: ofType('url'),
    subject: cert.subject,
  };
}
