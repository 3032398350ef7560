// Importing the library changes no process-global state of @peculiar/x509: its crypto provider is the
// application's to set (src/crypto/x509/x509.ts passes Node's WebCrypto explicitly where it needs one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from '../../helpers/child-process.js';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');

test("importing the identity server, agent and SPIFFE library leaves @peculiar/x509's crypto provider alone", () => {
  // a fresh process: module state is per process, and this one has loaded the modules already
  const script = `
    import 'reflect-metadata';
    import { cryptoProvider } from '@peculiar/x509';
    const mine = { subtle: globalThis.crypto.subtle, getRandomValues: (a) => globalThis.crypto.getRandomValues(a) };
    cryptoProvider.set(mine);
    for (const m of ['src/identity/server/index.ts', 'src/identity/agent/index.ts', 'src/spiffe/index.ts', 'src/index.ts']) await import('./' + m);
    const { CaManager, ManualClock, openSqliteDatastore } = await import('./src/identity/server/index.ts');
    const ca = await CaManager.open({ trustDomain: 'example.org', datastore: openSqliteDatastore(':memory:'), clock: new ManualClock(Date.now()), caTtl: 7200, x509SvidTtl: 3600, jwtSvidTtl: 300, keyType: 'ec-p256' });
    process.stdout.write(String(cryptoProvider.get() === mine && ca.caCertificates().length === 1));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(out, 'true');
});
