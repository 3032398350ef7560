/**
 * Where evident's agent serves the Workload API unless told otherwise (`evident agent run --socket`), and
 * so where its clients look when neither a socket nor `SPIFFE_ENDPOINT_SOCKET` is given. A file of its
 * own so that `--help` texts can name it without loading the client.
 */
export const DEFAULT_WORKLOAD_API_SOCKET = '/tmp/evident-agent/public/api.sock';
