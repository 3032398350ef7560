/**
 * The server half of bench/tsa.ts, in its own process so the benchmark's clients do not take its CPU: a
 * root and a TSA certificate under it, a TSA serving them on 127.0.0.1 (on THREADS worker threads, the
 * first argument; 0: on the main thread), one JSON line with its URL and root, then running until SIGTERM.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createCertificate, ExtendedKeyUsage, KeyUsageFlags } from '../src/spiffe/x509svid/index.js';
import { startTsaServer, TimestampAuthority, TsaWorkerPool } from '../src/time/index.js';

const now = Date.now();
const rootKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const root = await createCertificate({
  subject: 'O=bench, CN=bench root',
  publicKey: rootKey.publicKey,
  selfSignKey: rootKey.privateKey,
  notBefore: new Date(now - 3600_000),
  notAfter: new Date(now + 86400_000),
  ca: true,
  keyUsages: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
});
const tsaKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const tsaCert = await createCertificate({
  subject: 'O=bench, CN=bench TSA',
  publicKey: tsaKey.publicKey,
  issuer: { certificate: root, privateKey: rootKey.privateKey },
  notBefore: new Date(now - 3600_000),
  notAfter: new Date(now + 86400_000),
  keyUsages: KeyUsageFlags.digitalSignature,
  extKeyUsages: [ExtendedKeyUsage.timeStamping],
  extKeyUsageCritical: true,
});
const threads = Number(process.argv[2] ?? 0);
const options = { signer: { privateKey: tsaKey.privateKey, chain: [tsaCert] } };
const authority = threads > 0 ? await TsaWorkerPool.start(options, threads) : new TimestampAuthority(options);
const server = await startTsaServer({ authority });
process.stdout.write(`${JSON.stringify({ url: server.url, root: Buffer.from(root.rawData).toString('base64') })}\n`);
await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
await server.close();
if (authority instanceof TsaWorkerPool) await authority.close();
