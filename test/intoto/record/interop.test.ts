/**
 * evident's artifact maps against the Python reference's (record_artifacts_as_dict and in-toto-run), on
 * a tree with awkward names, symlinks, excludes, lstrip and a base path. Skips loudly without the reference.
 */
import assert from 'node:assert/strict';
import { execFileSync } from '../../helpers/child-process.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isEvidentError } from '../../../src/errors.js';
import { collectArtifacts } from '../../../src/intoto/record/index.js';
import type { ArtifactMap, CollectOptions } from '../../../src/intoto/record/index.js';
import { REFERENCE_PYTHON, makeTree, referenceInstalled, removeDir, tempDir } from './helpers.js';

const SKIP = 'in-toto reference not installed: /usr/bin/in-toto-run missing (apt-get install in-toto)';

interface Scenario {
  name: string;
  paths: string[];
  options: CollectOptions & { basePath?: string };
}

const REFERENCE_SCRIPT = `
import json, os, sys
from in_toto.runlib import record_artifacts_as_dict
out = []
for s in json.load(sys.stdin):
    o = s['options']
    try:
        d = record_artifacts_as_dict(s['paths'], exclude_patterns=o.get('excludePatterns'),
            base_path=o.get('basePath'), follow_symlink_dirs=o.get('followSymlinkDirs', False),
            normalize_line_endings=o.get('normalizeLineEndings', False), lstrip_paths=o.get('lstripPaths'))
        out.append({'ok': d})
    except Exception as e:
        out.append({'error': type(e).__name__})
print(json.dumps(out))
`;

function reference(cwd: string, scenarios: Scenario[]): ({ ok: ArtifactMap } | { error: string })[] {
  const out = execFileSync(REFERENCE_PYTHON, ['-c', REFERENCE_SCRIPT], { cwd, input: JSON.stringify(scenarios) });
  return JSON.parse(out.toString()) as ({ ok: ArtifactMap } | { error: string })[];
}

describe('interop with the in-toto reference', () => {
  let root: string;
  before(() => {
    root = tempDir('evident-record-interop-');
    makeTree(root, {
      'src/main.c': 'int main(void) { return 0; }\n',
      'src/util/helpers.h': '#pragma once\n',
      'src/util/cache.pyc': 'bytecode',
      'src/.git/config': '[core]\n',
      'main.c': 'top-level main\n',
      'a file with spaces.txt': 'spaces',
      'ünïcødé/文件.txt': 'unicode',
      'emoji-\u{1F600}.txt': 'astral',
      'z\uFB01.txt': 'ligature',
      '-leading-dash': 'dash',
      '#hash': 'hash',
      'weird[brackets].txt': 'brackets',
      'dir.link/inside': 'excluded by *.link*',
      'backup~': 'tilde',
      'build/out.o': 'object',
      'build/keep.o': 'keep',
      'build/sub/deep.o': 'deep',
      'crlf.txt': 'one\r\ntwo\rthree\n',
      'links/to-file': '-> ../src/main.c',
      'links/to-dir': '-> ../src/util',
      'links/dangling': '-> ../nope',
      'empty/': '',
    });
  });
  after(() => removeDir(root));

  const scenarios = (): Scenario[] => [
    { name: 'everything, default excludes', paths: ['.'], options: {} },
    {
      name: 'mixed paths, a missing one',
      paths: ['./src/', 'links', 'a file with spaces.txt', 'missing', 'src/../build', 'crlf.txt'],
      options: {},
    },
    { name: 'user excludes with negation', paths: ['.'], options: { excludePatterns: ['*.o', '!keep.o', 'links/', 'ü*'] } },
    { name: 'directory pattern and globstar', paths: ['.'], options: { excludePatterns: ['build/', '**/util', '*.txt'] } },
    { name: 'symlinked dirs not followed (the default)', paths: ['.', 'links/to-dir'], options: {} },
    { name: 'symlinked dirs followed', paths: ['.', 'links'], options: { followSymlinkDirs: true } },
    { name: 'lstrip', paths: ['src', 'build'], options: { lstripPaths: ['src/', 'build/'] } },
    { name: 'lstrip without trailing slash', paths: ['build'], options: { lstripPaths: ['bui'] } },
    { name: 'lstrip collision', paths: ['.'], options: { lstripPaths: ['src/'] } },
    { name: 'lstrip overlapping prefixes', paths: ['src'], options: { lstripPaths: ['src/', 'src/util/'] } },
    { name: 'base path, paths outside it', paths: ['../build', 'main.c', '..'], options: { basePath: join(root, 'src') } },
    { name: 'absolute path', paths: [join(root, 'build')], options: {} },
    { name: 'line endings normalized', paths: ['crlf.txt', 'src'], options: { normalizeLineEndings: true } },
  ];

  test('record_artifacts_as_dict gives the same maps and fails on the same inputs', async (t) => {
    if (!referenceInstalled) {
      t.skip(SKIP);
      return;
    }
    const list = scenarios();
    const want = reference(root, list);
    for (const [i, s] of list.entries()) {
      const w = want[i]!;
      const got = await collectArtifacts(s.paths, { basePath: root, ...s.options }).then(
        (ok) => ({ ok }),
        (e: unknown) => ({ error: isEvidentError(e) ? e.code : String(e) }),
      );
      if ('error' in w) {
        assert.ok('error' in got, `${s.name}: the reference failed (${w.error}), evident did not`);
        assert.equal(got.error, 'ARTIFACT_COLLISION', s.name);
      } else {
        assert.ok('ok' in got, `${s.name}: evident failed (${'error' in got ? got.error : ''})`);
        assert.deepEqual(got.ok, w.ok, s.name);
        assert.ok(Object.keys(w.ok).length > 0, `${s.name}: an empty map proves little`);
      }
    }
  });

  test('in-toto-run -x records the same materials as evident', async (t) => {
    if (!referenceInstalled) {
      t.skip(SKIP);
      return;
    }
    const out = tempDir('evident-record-interop-link-');
    try {
      execFileSync('/usr/bin/in-toto-keygen', ['-t', 'ed25519', join(out, 'key')], { stdio: 'ignore' });
      execFileSync(
        '/usr/bin/in-toto-run',
        ['-n', 'interop', '-m', '.', 'links', '-x', '--key', join(out, 'key'), '--key-type', 'ed25519', '-d', out],
        { cwd: root, stdio: 'ignore' },
      );
      const linkFile = readdirSync(out).find((f) => f.startsWith('interop.') && f.endsWith('.link'))!;
      const link = JSON.parse(readFileSync(join(out, linkFile), 'utf8')) as { signed: { materials: ArtifactMap } };
      // in-toto-run always follows symlinked folders; evident does when asked (--follow-symlink-dirs)
      const ours = await collectArtifacts(['.', 'links'], { basePath: root, followSymlinkDirs: true });
      assert.deepEqual(ours, link.signed.materials);
    } finally {
      removeDir(out);
    }
  });
});
