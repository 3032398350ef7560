/**
 * The largest upload a store accepts by default: a link of ~300 000 artifacts. Bodies are held in memory
 * while they are checked, so this bounds a store's memory per concurrent upload; `--max-evidence-bytes`
 * raises it as far as what the verifier reads (DEFAULT_MAX_LINK_BYTES). Apart from server.ts so that
 * `evident store serve --help` names it without loading the server.
 */
export const DEFAULT_MAX_EVIDENCE_BYTES = 64 * 1024 * 1024;
