/**
 * The policy a TSA names in its tokens unless told another: an OID under the `example` arc (2.999,
 * ITU-T X.660), as evident owns no arc; a deployment states its own policy with its own OID. On its own
 * so that `evident tsa --help` can show it without loading the ASN.1 libraries.
 */
export const DEFAULT_TSA_POLICY = '2.999.3161.1';
