/**
 * What the store server's tests upload and how they talk to it: real keys, links, layouts and DSSE
 * envelopes made with evident's own signing code, and a plain node:http(s) client (the store's own client
 * is the other side's subject; these tests check the wire contract).
 */
import { generateKeyPairSync, createHash } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateKey } from '../../src/crypto/keys.js';
import { signEnvelope } from '../../src/crypto/dsse.js';
import type { Signer } from '../../src/crypto/signer.js';
import { serializeEnvelope, serializeMetablock, signLinkEnvelope, signMetablock } from '../../src/intoto/models/metablock.js';
import type { Layout, Link } from '../../src/intoto/models/types.js';

export function edKey(): PrivateKey {
  return new PrivateKey(generateKeyPairSync('ed25519').privateKey);
}

export const hex = (text: string) => createHash('sha256').update(text).digest('hex');

export function link(name: string, materials: Record<string, string>, products: Record<string, string>): Link {
  const dict = (a: Record<string, string>) => Object.fromEntries(Object.entries(a).map(([n, h]) => [n, { sha256: h }]));
  return {
    _type: 'link',
    name,
    command: ['make', name],
    materials: dict(materials),
    products: dict(products),
    byproducts: {},
    environment: {},
  };
}

/** A link metablock as the reference writes it to a file. */
export function linkFile(l: Link, signers: readonly Signer[]): Buffer {
  return Buffer.from(serializeMetablock(signMetablock(l, signers)));
}

export function dsseLinkFile(l: Link, signers: readonly Signer[]): Buffer {
  return Buffer.from(serializeEnvelope(signLinkEnvelope(l, signers)));
}

export function layoutFile(owner: PrivateKey, functionary: PrivateKey): Buffer {
  const layout: Layout = {
    _type: 'layout',
    expires: '2100-01-01T00:00:00Z',
    readme: 'store test',
    keys: { [functionary.keyid]: functionary.publicKey.toDict() },
    steps: [
      {
        _type: 'step',
        name: 'build',
        threshold: 1,
        expected_materials: [],
        expected_products: [['ALLOW', '*']],
        pubkeys: [functionary.keyid],
        expected_command: [],
      },
    ],
    inspect: [],
  };
  return Buffer.from(serializeMetablock(signMetablock(layout, [owner])));
}

/** A DSSE envelope of an in-toto Statement of some other predicate type (floats and all: predicates are any JSON). */
export function statementFile(subjects: Record<string, string>, predicateType: string, key: PrivateKey): Buffer {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: Object.entries(subjects).map(([name, h]) => ({ name, digest: { sha256: h, sha512: hex(h) + hex(h + h) } })),
    predicateType,
    predicate: { score: 9.5, nested: { ok: true } },
  };
  return Buffer.from(
    JSON.stringify(signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)), [key]), null, 2) + '\n',
  );
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: () => Record<string, unknown>;
}

export interface RequestOptions {
  method?: string;
  body?: Buffer | string;
  contentType?: string | null;
  token?: string;
  /** For https: the client certificate chain and key (PEM), and the CA the server's certificate chains to. */
  tls?: { cert?: string; key?: string; ca: string };
}

/** One HTTP(S) request; the reply in full. */
export function call(base: string, path: string, o: RequestOptions = {}): Promise<Reply> {
  const url = new URL(path, base);
  const headers: Record<string, string> = {};
  if (o.body !== undefined && o.contentType !== null) headers['content-type'] = o.contentType ?? 'application/json';
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  const options = {
    method: o.method ?? (o.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(o.tls !== undefined
      ? { ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, checkServerIdentity: () => undefined, agent: false as const }
      : { agent: false as const }),
  };
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body,
          json: () => JSON.parse(body.toString('utf8')) as Record<string, unknown>,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** A fresh folder with a token file holding `tokens`. */
export function tokenDir(tokens: string[]): { dir: string; tokenFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'evident-store-'));
  const tokenFile = join(dir, 'tokens');
  writeFileSync(tokenFile, `# uploaders\n${tokens.join('\n')}\n\n`);
  return { dir, tokenFile };
}

export const sha256Of = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
