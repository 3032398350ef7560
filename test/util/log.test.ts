/**
 * The server's and the agent's logs: text a person reads on a terminal, JSON a collector reads elsewhere,
 * both with ISO-8601 times; `--log-format` (or `log_format`, or EVIDENT_*_LOG_FORMAT) chooses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveAgentConfig } from '../../src/identity/agent/index.js';
import { resolveServerConfig } from '../../src/identity/server/index.js';
import { createLogger } from '../../src/util/log.js';
import { runCli } from '../helpers/cli.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function capture(format: 'text' | 'json' | undefined, isTTY = false): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const log = createLogger({
    service: 'evident-server',
    level: 'info',
    ...(format ? { format } : {}),
    stream: { write: (s: string) => lines.push(s), isTTY },
  });
  return { lines, log };
}

describe('logs', () => {
  it('json: one object a line, an ISO-8601 time, the level by name', () => {
    const { lines, log } = capture('json');
    log.info({ bind: '127.0.0.1:8081' }, 'server ready');
    assert.equal(lines.length, 1);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.match(String(rec.time), ISO);
    assert.equal(rec.level, 'info');
    assert.equal(rec.service, 'evident-server');
    assert.equal(rec.msg, 'server ready');
    assert.equal(rec.bind, '127.0.0.1:8081');
  });

  it('text: time, level, message, then key=value, one line (an error shows its message, not its stack)', () => {
    const { lines, log } = capture('text');
    log.info({ bind: '127.0.0.1:8081', note: 'two words', n: 3 }, 'server ready');
    log.error({ err: new Error('disk full') }, 'CA rotation failed');
    assert.equal(lines.length, 2);
    const [time, ...rest] = lines[0]!.split(' ');
    assert.match(time!, ISO);
    assert.equal(rest.join(' '), 'INFO  server ready bind=127.0.0.1:8081 note="two words" n=3\n');
    assert.match(lines[1]!, /^\S+ ERROR CA rotation failed err="disk full"\n$/);
  });

  it('unset: text when the stream is a terminal, json when it is not', () => {
    const tty = capture(undefined, true);
    tty.log.info('hello');
    assert.match(tty.lines[0]!, /^\S+Z INFO {2}hello\n$/);
    const pipe = capture(undefined, false);
    pipe.log.info('hello');
    assert.equal((JSON.parse(pipe.lines[0]!) as { msg: string }).msg, 'hello');
  });

  it('--log-format is a flag, a config file key and an env var of both server and agent; unset means "follow stderr"', () => {
    const server = { trust_domain: 'example.org', data_dir: '/data' };
    assert.equal(resolveServerConfig({ flags: server, file: {}, env: {} }, '/').logFormat, undefined);
    assert.equal(resolveServerConfig({ flags: { ...server, log_format: 'text' }, file: {}, env: {} }, '/').logFormat, 'text');
    const agent = { server: '127.0.0.1:1', trust_bundle: 'b.pem', join_token: 't' };
    assert.equal(resolveAgentConfig({ flags: agent, file: { log_format: 'json' }, env: {} }, '/').logFormat, 'json');
  });

  it('a bad log format or level is a usage error naming the ways to set it (exit 2, one line)', async () => {
    const fmt = await runCli(['server', 'run', '--trust-domain', 'example.org', '--data-dir', '/nonexistent', '--log-format', 'xml']);
    assert.equal(fmt.code, 2);
    assert.equal(
      fmt.stderr,
      "evident: log format must be text or json, not 'xml' (--log-format FORMAT, log_format in the config file, or EVIDENT_SERVER_LOG_FORMAT)\n",
    );
    const level = await runCli(['agent', 'run', '--server', '127.0.0.1:1', '--trust-bundle', 'b.pem', '--join-token', 't'], {
      env: { EVIDENT_AGENT_LOG_LEVEL: 'loud' },
    });
    assert.equal(level.code, 2);
    assert.match(
      level.stderr,
      /^evident: log level must be one of trace, debug, info, warn, error, fatal, silent, not 'loud' \(.*EVIDENT_AGENT_LOG_LEVEL\)\n$/,
    );
  });
});
