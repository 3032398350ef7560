import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from '../helpers/child-process.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, REPO_ROOT } from '../helpers/evident-process.js';
import { tokenDir } from './server-fixtures.js';

const BIN = join(REPO_ROOT, 'bin', 'evident');

// a real process, as an operator starts it: its exit code and the one line it prints, nothing more
before(() => ensureBuilt());

it('evident store serve: a configuration that cannot work is one line and exit 2', () => {
  const { dir, tokenFile } = tokenDir(['t']);
  try {
    for (const [args, message] of [
      [['--data-dir', dir], /^evident: store: nobody could upload: give --token-file FILE or --trust-bundle FILE/],
      [['--data-dir', dir, '--token-file', tokenFile, '--bind', 'nowhere'], /bind address 'nowhere' is not HOST:PORT/],
      [['--token-file', tokenFile], /--data-dir DIR or --datastore URL is needed/],
      [['--data-dir', dir, '--token-file', join(dir, 'none')], /cannot read the token file: ENOENT/],
      [['--data-dir', dir, '--token-file', tokenFile, '--max-evidence-bytes', '-1'], /--max-evidence-bytes takes a positive whole number/],
    ] as const) {
      const r = spawnSync(process.execPath, [BIN, 'store', 'serve', '--bind', '127.0.0.1:0', ...args], { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
