/**
 * The server and the agent resolve their settings one way: flags over file over environment over defaults,
 * every setting (an attestor's included) with a flag, a config file key and an env var derived from one
 * description, and an unknown plugin name is one line, exit 2, naming the known ones.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AGENT_SETTINGS, resolveAgentConfig } from '../../src/identity/agent/index.js';
import { resolveServerConfig, SERVER_SETTINGS, settingsFromEnv, settingsFromFile } from '../../src/identity/server/index.js';
import { DEFAULT_ADMIN_SOCKET } from '../../src/identity/server/api/admin-client.js';
import type { SettingLayer, SettingsSchema } from '../../src/util/settings.js';
import { runCli } from '../helpers/cli.js';

interface Side {
  name: string;
  schema: SettingsSchema;
  /** What a run needs besides the setting under test. */
  required: Record<string, string>;
  /** The resolved value of `log_level` and of the attestor path setting under test. */
  resolve(
    layers: { flags: SettingLayer; file: SettingLayer; env: SettingLayer },
    cwd: string,
  ): {
    logLevel: string;
    attestorPath: unknown;
  };
  /** An attestor setting that is a path: its flat name and its place in a config file's attestor section. */
  attestor: { flat: string; section: string; plugin: string; key: string };
}

const sides: Side[] = [
  {
    name: 'server',
    schema: SERVER_SETTINGS,
    required: { trust_domain: 'example.org', data_dir: '/data' },
    resolve: (layers, cwd) => {
      const c = resolveServerConfig(layers, cwd);
      return { logLevel: c.logLevel, attestorPath: c.nodeAttestors.find((a) => a.name === 'x509pop')?.settings.ca_bundle };
    },
    attestor: { flat: 'x509pop_ca_bundle', section: 'node_attestors', plugin: 'x509pop', key: 'ca_bundle' },
  },
  {
    name: 'agent',
    schema: AGENT_SETTINGS,
    required: { server: '127.0.0.1:1', trust_bundle: '/b.pem', x509pop_key: '/node.key' },
    resolve: (layers, cwd) => {
      const c = resolveAgentConfig(layers, cwd);
      return { logLevel: c.logLevel, attestorPath: c.nodeAttestor.settings.cert };
    },
    attestor: { flat: 'x509pop_cert', section: 'node_attestor', plugin: 'x509pop', key: 'cert' },
  },
];

describe('configuration: one resolution for the server and the agent', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evident-config-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const side of sides) {
    it(`${side.name}: a setting given as flag, file and env resolves flag over file over env over default`, async () => {
      const env = (values: Record<string, string>): SettingLayer =>
        side.schema.fromEnv(Object.fromEntries(Object.entries(values).map(([k, v]) => [side.schema.setting(k).env, v])));
      const file = join(dir, `${side.name}.yaml`);
      await writeFile(
        file,
        `log_level: warn\n${side.attestor.section}:\n  ${side.attestor.plugin}:\n    ${side.attestor.key}: from-file.pem\n`,
      );
      const fromFile = await side.schema.fromFile(file);
      const flags = { ...side.required, log_level: 'debug', [side.attestor.flat]: 'from-flag.pem' };
      const envLayer = env({ ...side.required, log_level: 'error', [side.attestor.flat]: 'from-env.pem' });

      const all = side.resolve({ flags, file: fromFile, env: envLayer }, '/cwd');
      assert.deepEqual(all, { logLevel: 'debug', attestorPath: '/cwd/from-flag.pem' }, 'flag over file');
      const fileAndEnv = side.resolve({ flags: side.required, file: fromFile, env: envLayer }, '/cwd');
      assert.deepEqual(
        fileAndEnv,
        { logLevel: 'warn', attestorPath: join(dir, 'from-file.pem') },
        'file over env; file paths relative to the file',
      );
      const envOnly = side.resolve({ flags: side.required, file: {}, env: envLayer }, '/cwd');
      assert.deepEqual(envOnly, { logLevel: 'error', attestorPath: '/cwd/from-env.pem' }, 'env over default');
      const none = side.resolve({ flags: { ...side.required, [side.attestor.flat]: '/x.pem' }, file: {}, env: {} }, '/cwd');
      assert.equal(none.logLevel, 'info', 'the default');
    });

    it(`${side.name}: each setting's flag, file key and env var are derived from its one description`, () => {
      const s = side.schema.setting(side.attestor.flat);
      assert.equal(s.flag, `--${side.attestor.flat.replace(/_/g, '-')}`);
      assert.equal(s.env, `EVIDENT_${side.name.toUpperCase()}_${side.attestor.flat.toUpperCase()}`);
      assert.equal(s.fileKey, `${side.attestor.section}.${side.attestor.plugin}.${side.attestor.key}`);
      assert.equal(side.schema.setting('log_level').env, `EVIDENT_${side.name.toUpperCase()}_LOG_LEVEL`);
    });
  }
});

describe('server configuration', () => {
  it('flags > file > env > defaults; file paths are relative to the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evident-cfg-'));
    try {
      const yamlFile = join(dir, 'server.yaml');
      await writeFile(yamlFile, 'trust_domain: file.org\ndata_dir: data\nbind: 0.0.0.0:9000\nx509_svid_ttl: 30m\n');
      const file = await settingsFromFile(yamlFile);
      const env = settingsFromEnv({
        EVIDENT_SERVER_TRUST_DOMAIN: 'env.org',
        EVIDENT_SERVER_JWT_SVID_TTL: '60',
        EVIDENT_SERVER_BIND: '1.2.3.4:1',
      });
      const cfg = resolveServerConfig({ flags: { bind: '127.0.0.1:7000' }, file, env }, '/cwd');
      assert.equal(cfg.trustDomain, 'file.org', 'file over env');
      assert.equal(cfg.bind, '127.0.0.1:7000', 'flag over file');
      assert.equal(cfg.jwtSvidTtl, 60, 'env over default');
      assert.equal(cfg.x509SvidTtl, 1800);
      assert.equal(cfg.caTtl, 86400);
      assert.equal(cfg.dataDir, join(dir, 'data'));
      assert.equal(cfg.adminSocket, DEFAULT_ADMIN_SOCKET, 'the admin socket does not follow the data dir: admin commands find it anywhere');
      const jsonFile = join(dir, 'server.json');
      await writeFile(jsonFile, JSON.stringify({ trust_domain: 'json.org', data_dir: '/d' }));
      assert.equal(resolveServerConfig({ flags: {}, file: await settingsFromFile(jsonFile), env: {} }, '/').trustDomain, 'json.org');
      await writeFile(jsonFile, JSON.stringify({ trust_domian: 'typo.org' }));
      await assert.rejects(settingsFromFile(jsonFile), /unknown setting 'trust_domian'/);
      assert.throws(
        () => resolveServerConfig({ flags: { trust_domain: 'Bad_TD!', data_dir: '/d' }, file: {}, env: {} }, '/'),
        /invalid trust domain/,
      );
      assert.throws(
        () => resolveServerConfig({ flags: { trust_domain: 'a.org', data_dir: '/d', upstream_ca_cert: 'x' }, file: {}, env: {} }, '/'),
        /go together/,
      );
      assert.throws(
        () => resolveServerConfig({ flags: { trust_domain: 'a.org', data_dir: '/d', ca_ttl: 'soon' }, file: {}, env: {} }, '/'),
        /not a duration/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('evident server run / agent run: attestors by name', () => {
  const cases = [
    { argv: ['agent', 'run', '--workload-attestor', 'nope'], line: /^evident: unknown workload attestor 'nope' \(known: unix\)\n$/ },
    {
      argv: ['agent', 'run', '--node-attestor', 'nope'],
      line: /^evident: unknown node attestor 'nope' \(known: join_token, x509pop, tpm\)\n$/,
    },
    {
      argv: ['server', 'run', '--node-attestor', 'nope'],
      line: /^evident: unknown node attestor 'nope' \(known: join_token, x509pop, tpm\)\n$/,
    },
  ];
  for (const c of cases) {
    it(`${c.argv.join(' ')}: exit 2 with one line naming the known ones`, async () => {
      const r = await runCli(c.argv);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, c.line);
      assert.equal(r.stdout, '');
    });
  }

  it('a config file names an unknown attestor: exit 2, one line naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evident-config-'));
    try {
      await writeFile(join(dir, 'server.yaml'), 'node_attestors:\n  aws_iid: {}\n');
      const r = await runCli(['server', 'run', '--config', 'server.yaml'], { cwd: dir });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^evident: .*server\.yaml: unknown node attestor 'aws_iid' \(known: join_token, x509pop, tpm\)\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
