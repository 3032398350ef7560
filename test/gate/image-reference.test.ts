import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EvidentError } from '../../src/errors.js';
import { parseImageReference, pinnedName } from '../../src/gate/image-reference.js';

const HEX = 'a'.repeat(64);
const DIGEST = `sha256:${HEX}`;

function refusal(text: string): EvidentError {
  try {
    parseImageReference(text);
  } catch (e) {
    assert.ok(e instanceof EvidentError, `expected an EvidentError for ${JSON.stringify(text)}`);
    assert.equal(e.code, 'BAD_INPUT');
    assert.ok(!e.message.includes('\n'), 'one line');
    return e;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be refused`);
}

describe('parseImageReference', () => {
  const accepted: [string, { name: string; tag?: string; digest?: string }][] = [
    ['app', { name: 'app' }],
    ['app:1.0', { name: 'app', tag: '1.0' }],
    ['team/app', { name: 'team/app' }],
    [`registry.example/team/app@${DIGEST}`, { name: 'registry.example/team/app', digest: DIGEST }],
    [
      `registry.example:5000/team/sub/app:v1.2_rc-3@${DIGEST}`,
      { name: 'registry.example:5000/team/sub/app', tag: 'v1.2_rc-3', digest: DIGEST },
    ],
    ['localhost:5000/app:latest', { name: 'localhost:5000/app', tag: 'latest' }],
    ['Registry.Example/app', { name: 'Registry.Example/app' }],
    ['10.0.0.1:5000/app', { name: '10.0.0.1:5000/app' }],
    [`[::1]:5000/app@${DIGEST}`, { name: '[::1]:5000/app', digest: DIGEST }],
    ['a.b/c__d/e--f/g.h_i', { name: 'a.b/c__d/e--f/g.h_i' }],
    ['host:5000', { name: 'host', tag: '5000' }], // one component: never a host, so ':5000' is a tag
    [`app:${'t'.repeat(128)}`, { name: 'app', tag: 't'.repeat(128) }],
  ];
  for (const [text, expected] of accepted) {
    it(`accepts ${text.length > 60 ? `${text.slice(0, 60)}…` : text}`, () => {
      const ref = parseImageReference(text);
      assert.deepEqual({ ...ref }, { text, ...expected });
    });
  }

  const refused: [string, RegExp][] = [
    ['', /is empty/],
    ['App', /path component 'App' must be lowercase/],
    ['team/App', /path component 'App'/],
    ['team//app', /empty path component/],
    ['team/app/', /empty path component/],
    ['/app', /empty path component/],
    ['app-', /path component 'app-'/],
    ['app:', /tag '' is not/],
    ['app:.hidden', /tag '.hidden'/],
    [`app:${'t'.repeat(129)}`, /tag .* is not 1 to 128/],
    ['app:1:2', /tag '1:2'/],
    ['registry.example:port/app', /path component 'registry.example:port'/],
    ['-host.example/app', /path component '-host.example'/],
    [`${'a'.repeat(256)}`, /longer than 255/],
    ['app@', /digest '' is not ALGORITHM:HEX/],
    ['app@sha256:abc', /is not ALGORITHM:HEX/],
    [`app@sha256:${'A'.repeat(64)}`, /exactly 64 lowercase hex/],
    [`app@sha256:${'a'.repeat(65)}`, /exactly 64 lowercase hex/],
    [`app@sha512:${'a'.repeat(128)}`, /digest algorithm 'sha512' does not pin an image for evident: only sha256/],
    [`app@${DIGEST}@${DIGEST}`, /is not ALGORITHM:HEX/],
    ['app name', /path component 'app name'/],
    ['app\n:1', /app\\n/],
  ];
  for (const [text, problem] of refused) {
    it(`refuses ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)}`, () => {
      const e = refusal(text);
      assert.match(e.message, /^image reference '/);
      assert.match(e.message, problem);
    });
  }

  it('refuses an absurdly long reference without echoing it whole', () => {
    const e = refusal(`app:${'x'.repeat(10_000)}`);
    assert.ok(e.message.length < 300, e.message);
  });

  it('pinnedName is name@digest only for a digest reference', () => {
    assert.equal(pinnedName(parseImageReference(`registry.example/app:1@${DIGEST}`)), `registry.example/app@${DIGEST}`);
    assert.equal(pinnedName(parseImageReference('registry.example/app:1')), undefined);
  });
});
