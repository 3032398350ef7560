import { DEFAULT_PAGE, MAX_PAGE } from './search-query.js';

/** The store's API as OpenAPI 3.1, served at `/openapi.json`; docs/store.md says the same in prose. */
export function openApiDocument(): Record<string, unknown> {
  const error = { $ref: '#/components/responses/Error' };
  const digestParam = (name: string, where: 'path' | 'query', description: string) => ({
    name,
    in: where,
    required: where === 'path',
    description,
    schema: { type: 'string', pattern: '^[a-z0-9-]+:[0-9a-f]+$' },
  });
  const query = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema,
  });
  const evidenceBody = {
    required: true,
    description: 'The exact bytes of one in-toto metablock (link or layout) or DSSE envelope; stored as received.',
    content: { 'application/json': { schema: { type: 'object' } } },
  };
  const writeSecurity = [{ bearer: [] }, { svid: [] }];
  const upload = {
    post: {
      summary: 'Archivista-compatible upload of a DSSE envelope',
      security: writeSecurity,
      requestBody: evidenceBody,
      responses: {
        '200': {
          description: 'Stored (or already stored)',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['gitoid'],
                properties: { gitoid: { type: 'string', description: 'git blob object id of the bytes, sha256 object format, hex' } },
              },
            },
          },
        },
        '400': error,
        '401': error,
        '413': error,
        '415': error,
      },
    },
  };
  const download = {
    get: {
      summary: 'Archivista-compatible download by gitoid',
      parameters: [{ name: 'gitoid', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } }],
      responses: { '200': { description: 'The envelope', content: { 'application/json': {} } }, '404': error },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'evident evidence store',
      version: '1',
      description:
        'Holds in-toto links, layouts and DSSE envelopes as the exact bytes received, addressed by their sha256, and finds them by artifact digest, step, signer and time. Writes need a bearer token or a client X509-SVID; reads are open unless the store was started with --reads-need-token.',
    },
    paths: {
      '/v1/evidence': {
        post: {
          summary: 'Upload one piece of evidence (idempotent)',
          security: writeSecurity,
          requestBody: evidenceBody,
          responses: {
            '201': { description: 'Stored', content: { 'application/json': { schema: { $ref: '#/components/schemas/Receipt' } } } },
            '200': { description: 'Already stored', content: { 'application/json': { schema: { $ref: '#/components/schemas/Receipt' } } } },
            '400': error,
            '401': error,
            '403': error,
            '413': error,
            '415': error,
          },
        },
        get: {
          summary: 'Search, newest first',
          parameters: [
            digestParam('digest', 'query', 'An artifact digest, alg:hex (sha256:HEX), the evidence names as subject, material or product'),
            query('role', 'Only where the digest is in this role (needs digest)', { enum: ['subject', 'material', 'product'] }),
            query('step', 'The step name of a link'),
            query('signer', 'A signature keyid, or the SPIFFE ID of a signing certificate'),
            query('since', 'Stored at or after (ISO 8601)', { type: 'string', format: 'date-time' }),
            query('until', 'Stored before (ISO 8601)', { type: 'string', format: 'date-time' }),
            query('limit', `Items per page; a page holds at most ${MAX_PAGE}, so a larger limit is served in pages of ${MAX_PAGE}`, {
              type: 'integer',
              minimum: 1,
              default: DEFAULT_PAGE,
            }),
            query('cursor', 'The `next` of the previous page'),
          ],
          responses: {
            '200': { description: 'A page', content: { 'application/json': { schema: { $ref: '#/components/schemas/Page' } } } },
            '400': error,
            '401': error,
          },
        },
      },
      '/v1/evidence/{digest}': {
        get: {
          summary: 'The exact bytes stored under a digest',
          parameters: [digestParam('digest', 'path', 'sha256:HEX of the bytes')],
          responses: { '200': { description: 'The evidence', content: { 'application/json': {} } }, '400': error, '404': error },
        },
      },
      // Archivista's client posts to /upload; /v1/upload is the same (Archivista serves both)
      '/upload': upload,
      '/v1/upload': upload,
      '/download/{gitoid}': download,
      '/v1/download/{gitoid}': download,
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
      '/healthz': {
        get: { summary: 'Liveness, and that the database answers', responses: { '200': { description: 'OK' }, '503': error } },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from the server’s --token-file' },
        svid: {
          type: 'mutualTLS',
          description:
            'An X509-SVID chaining to the server’s --trust-bundle, or, when the store serves its own X509-SVID (--spiffe-socket), to the Workload API’s bundles (own and federated trust domains)',
        },
      },
      responses: {
        Error: {
          description: 'A one-line error',
          content: { 'application/json': { schema: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } } } },
        },
      },
      schemas: {
        Receipt: {
          type: 'object',
          required: ['digest', 'kind', 'created'],
          properties: {
            digest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
            kind: { enum: ['link', 'layout', 'dsse'] },
            created: { type: 'boolean' },
          },
        },
        Item: {
          type: 'object',
          required: ['digest', 'kind', 'signers', 'storedAt', 'timestamps'],
          properties: {
            digest: { type: 'string' },
            kind: { enum: ['link', 'layout', 'dsse'] },
            step: { type: 'string' },
            predicateType: { type: 'string' },
            signers: {
              type: 'array',
              items: { type: 'object', required: ['keyid'], properties: { keyid: { type: 'string' }, spiffeId: { type: 'string' } } },
            },
            storedAt: { type: 'string', format: 'date-time' },
            timestamps: { type: 'integer', description: 'RFC 3161 tokens its signatures carry' },
          },
        },
        Page: {
          type: 'object',
          required: ['items'],
          properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Item' } }, next: { type: 'string' } },
        },
      },
    },
  };
}
