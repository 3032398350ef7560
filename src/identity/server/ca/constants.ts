/**
 * The CA's settings vocabulary, kept free of imports: `evident server run --help` and the config reader
 * name these without loading the CA's cryptography.
 */

/** Key types the CA can sign with. */
export type CaKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048';

export const CA_KEY_TYPES: readonly CaKeyType[] = ['ec-p256', 'ec-p384', 'rsa-2048'];

/** Ten years: a root is what layouts pin, and replacing it is an operation (docs/identity.md). */
export const DEFAULT_ROOT_TTL_SECONDS = 10 * 365 * 86400;
