/**
 * The evidence store the clients' tests talk to: the real one (src/store/server.ts) in SQLite, in a
 * folder of its own, writes needing `token`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEvidenceStore } from '../../src/store/server.js';

export interface TestStore {
  url: string;
  close(): Promise<void>;
}

export async function startTestStore(options: { token: string }): Promise<TestStore> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-test-store-'));
  const tokenFile = join(dir, 'tokens');
  await writeFile(tokenFile, `${options.token}\n`, { mode: 0o600 });
  const store = await startEvidenceStore({ dataDir: dir, tokenFile });
  return {
    url: store.url,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
