/**
 * The largest link file the verifier reads, by default (`--max-link-size`): kept apart from verify.ts so
 * that what hands links to the verifier (the evidence store's client) can share it without loading it.
 */
export const DEFAULT_MAX_LINK_BYTES = 256 * 1024 * 1024;
