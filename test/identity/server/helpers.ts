import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaManager, type CaOptions } from '../../../src/identity/server/ca/index.js';
import { ManualClock } from '../../../src/util/clock.js';
import { openSqliteDatastore, type Datastore } from '../../../src/identity/server/datastore/index.js';
import { TD } from '../../helpers/identity-server.js';
import { T0 as PKI_T0 } from '../../helpers/pki.js';

export { TD };
/** The frozen clock of a CA environment (ms): the test PKI's. */
export const T0 = PKI_T0.getTime();

export interface Env {
  dir: string;
  ds: Datastore;
  clock: ManualClock;
  ca: CaManager;
  close(): Promise<void>;
}

/** A CA on a fresh SQLite datastore in a temp dir, with a frozen clock at T0. */
export async function caEnv(over: Partial<CaOptions> = {}): Promise<Env> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-ca-'));
  const ds = openSqliteDatastore(join(dir, 'ds.sqlite3'));
  const clock = new ManualClock(T0);
  const ca = await CaManager.open({
    trustDomain: TD,
    datastore: ds,
    clock,
    caTtl: 24 * 3600,
    x509SvidTtl: 3600,
    jwtSvidTtl: 300,
    keyType: 'ec-p256',
    ...over,
  });
  return {
    dir,
    ds,
    clock,
    ca,
    close: async () => {
      await ds.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
