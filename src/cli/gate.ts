import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { EvidentError, exitCodeFor } from '../errors.js';
import type { GateImage, GateOptions, GateVerdict } from '../gate/gate.js';
import type { GatePolicy } from '../gate/policy.js';
import { parseHostPort } from '../util/host-port.js';
import type { CliContext } from './context.js';
import { servedSvidSource } from './served-svid.js';
import { untilStopSignal } from './stop-signal.js';
import { addStoreOptions, storeClient, storeUrlOf, type StoreFlags } from './store-options.js';

interface PolicyFlags extends StoreFlags {
  layout?: string;
  layoutKey: string[];
  policy?: string;
  skipInspections?: boolean;
  maxStoreLinks?: string;
  storeTimeout: string;
}

interface ServeFlags extends PolicyFlags {
  bind: string;
  tlsCert?: string;
  tlsKey?: string;
  spiffeTimeout: string;
  warn?: boolean;
  exemptNamespace: string[];
  cacheTtl: string;
  refusedTtl: string;
  staleMax: string;
  failOpen?: boolean;
}

interface CheckFlags extends PolicyFlags {
  namespace?: string;
  json?: boolean;
}

/** `evident gate …`: the deployment gate (docs/gate.md). */
export function registerGate(program: Command, ctx: CliContext): void {
  const gate = program.command('gate').description('the deployment gate: admit only artifacts whose evidence in the store verifies');
  registerServe(gate, ctx);
  registerCheck(gate, ctx);
}

/** The flags that say which policies: `--layout F --layout-key K…` for one, `--policy FILE` for several. */
function addPolicyOptions(command: Command): Command {
  return command
    .option('--layout <file>', 'the signed layout artifacts must follow (one policy, for every namespace and image)')
    .option(
      '--layout-key <file>',
      "a layout owner's public key (repeat for each)",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option(
      '--policy <file>',
      'the policies, YAML or JSON: layouts, keys, the namespaces and image patterns each applies to (docs/gate.md)',
    )
    .option('--skip-inspections', 'with --layout: admit by a layout that has inspections without running them (a gate runs no commands)')
    .option('--max-store-links <n>', 'fetch at most this many links per verification (default 1000)')
    .option('--store-timeout <duration>', 'a store that has not answered within this time counts as unreachable', '5s');
}

function registerServe(gate: Command, ctx: CliContext): void {
  const command = addPolicyOptions(
    gate
      .command('serve')
      .description('serve the gate over HTTP(S) (POST /v1/admit, POST /validate for Kubernetes, /metrics) until SIGTERM or SIGINT')
      .option('--bind <host:port>', 'the address to listen on', '127.0.0.1:8430'),
  )
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM, then its intermediates)')
    .option('--tls-key <file>', "the HTTPS certificate's private key (PEM)")
    .option('--spiffe-timeout <seconds>', 'with --spiffe-socket: give up (exit 3) when no X509-SVID came within this time', '30')
    .option('--warn', 'admission reviews admit everything, and say what would have been refused as warnings')
    .option('--exempt-namespace <ns...>', 'namespaces whose admission reviews are admitted without a look', ['kube-system'])
    .option('--cache-ttl <duration>', 'how long an allowed verdict is reused without asking the store (e.g. 300s, 5m)', '5m')
    .option('--refused-ttl <duration>', 'how long a refused verdict is reused (new evidence may arrive)', '10s')
    .option(
      '--stale-max <duration>',
      "while the store cannot be reached, an allowed verdict admits up to this long after it was verified (never past the layout's expiry)",
      '24h',
    )
    .addOption(
      new Option('--fail-open', 'DANGEROUS: admit unverified what cannot be checked because the store cannot be reached (default: refuse)'),
    );
  addStoreOptions(command, {
    spiffeSocket: true,
    purpose: 'fetch evidence from; with --spiffe-socket the gate also serves HTTPS with its X509-SVID',
  }).action(
    ctx.action(async (f: ServeFlags) => {
      const { host, port } = parseHostPort(f.bind);
      const [{ Gate }, { GateMetrics }, { startGateServer }] = await Promise.all([
        import('../gate/gate.js'),
        import('../gate/metrics.js'),
        import('../gate/server.js'),
      ]);
      const log = (line: string) => ctx.err(`evident gate: ${line}`);
      const timing = {
        cacheTtlMs: duration(f.cacheTtl, '--cache-ttl'),
        refusedTtlMs: duration(f.refusedTtl, '--refused-ttl'),
        staleMaxMs: duration(f.staleMax, '--stale-max'),
      };
      const options = await gateOptions(f, ctx, 'gate serve');
      const metrics = new GateMetrics();
      const gate = new Gate({ ...options, ...timing, failOpen: f.failOpen === true, observer: metrics, log });
      const path = (p: string | undefined) => (p === undefined ? undefined : resolve(ctx.io.cwd, p));
      const tlsSource = await servedSvidSource('gate serve', f, ctx, log);
      const server = await startGateServer({
        gate,
        metrics,
        host,
        port,
        ...(f.tlsCert !== undefined ? { tlsCert: path(f.tlsCert) } : {}),
        ...(f.tlsKey !== undefined ? { tlsKey: path(f.tlsKey) } : {}),
        ...(tlsSource !== undefined ? { tlsSource } : {}),
        warnOnly: f.warn === true,
        exemptNamespaces: f.exemptNamespace,
        log,
      });
      log(
        `serving ${server.url} (${gate.policies.length} polic${gate.policies.length === 1 ? 'y' : 'ies'}: ${gate.policies.map((p) => p.name).join(', ')}; store ${storeUrlOf(f, ctx)})`,
      );
      if (f.warn === true) log('--warn: admission reviews admit everything; refusals are returned as warnings');
      const signal = await untilStopSignal();
      await server.close();
      log(`stopped (${signal})`);
      return 0;
    }),
  );
}

function registerCheck(gate: Command, ctx: CliContext): void {
  const command = addPolicyOptions(
    gate
      .command('check')
      .description(
        "ask the gate's question from a deploy step: may this digest run here? (exit 0 allowed, 1 refused, 2 bad input, 3 store unreachable)",
      )
      .argument('<artifact>', 'NAME@sha256:HEX or sha256:HEX')
      .option('--namespace <ns>', 'the namespace it is to run in (policies may apply to some namespaces only)')
      .option('--json', 'print the verdict as JSON'),
  );
  addStoreOptions(command, { spiffeSocket: true, purpose: 'fetch evidence from' }).action(
    ctx.action(async (artifact: string, f: CheckFlags) => {
      const [{ Gate }, { admitRequest }] = await Promise.all([import('../gate/gate.js'), import('../gate/admit-request.js')]);
      // the same reading of the artifact as POST /v1/admit
      const { image } = admitRequest({ artifact }, 'gate check');
      const gate = new Gate(await gateOptions(f, ctx, 'gate check'));
      const verdict = await gate.decide(image, f.namespace !== undefined ? { namespace: f.namespace } : {});
      ctx.io.stdout.write(f.json === true ? `${JSON.stringify(verdict, null, 2)}\n` : formatVerdict(image, verdict));
      if (verdict.allowed) return 0;
      // a store that could not be asked is an operational failure, not a verdict on the evidence: the exit
      // code `evident verify --store` gives for it (ENVIRONMENT), so a deploy step can tell a retry from a no
      return verdict.basis === 'unreachable' ? exitCodeFor('ENVIRONMENT') : 1;
    }),
  );
}

/** The verdict for a person: allowed/refused, then one line per reason and warning. */
function formatVerdict(image: GateImage, v: GateVerdict): string {
  const by = v.layout === null ? '' : ` by policy ${v.layout}`;
  const lines = [`${v.allowed ? 'allowed' : 'refused'}: ${image.text}${by}`];
  for (const r of v.reasons) lines.push(`  reason: ${r}`);
  for (const w of v.warnings) lines.push(`  warning: ${w}`);
  if (v.skippedInspections.length > 0) lines.push(`  not run (a gate runs no commands): inspections ${v.skippedInspections.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** The policies and the store the flags name; every problem is exit 2 before anything is asked of the store. */
async function gateOptions(
  f: PolicyFlags,
  ctx: CliContext,
  command: string,
): Promise<Pick<GateOptions, 'policies' | 'store' | 'maxLinks'>> {
  const url = storeUrlOf(f, ctx);
  if (url === undefined) throw new EvidentError('BAD_USAGE', `${command}: say where the evidence is: --store URL (or EVIDENT_STORE_URL)`);
  const policies = await policiesOf(f, ctx, command);
  let maxLinks: number | undefined;
  if (f.maxStoreLinks !== undefined) {
    maxLinks = Number(f.maxStoreLinks);
    if (!Number.isSafeInteger(maxLinks) || maxLinks < 1) {
      throw new EvidentError('BAD_USAGE', `${command}: --max-store-links must be a positive number, not '${f.maxStoreLinks}'`);
    }
  }
  const store = await storeClient(f, ctx, url, { timeoutMs: duration(f.storeTimeout, '--store-timeout', command) });
  return { policies, store, ...(maxLinks !== undefined ? { maxLinks } : {}) };
}

async function policiesOf(f: PolicyFlags, ctx: CliContext, command: string): Promise<GatePolicy[]> {
  const { loadPolicy, loadPolicyFile } = await import('../gate/policy-file.js');
  if (f.policy !== undefined) {
    if (f.layout !== undefined || f.layoutKey.length > 0 || f.skipInspections === true) {
      throw new EvidentError(
        'BAD_USAGE',
        `${command}: the policies come from --policy FILE or from --layout/--layout-key/--skip-inspections, not both`,
      );
    }
    return loadPolicyFile(resolve(ctx.io.cwd, f.policy), f.policy);
  }
  if (f.layout === undefined) throw new EvidentError('BAD_USAGE', `${command}: give --layout FILE --layout-key KEY…, or --policy FILE`);
  if (f.layoutKey.length === 0)
    throw new EvidentError('BAD_USAGE', `${command}: --layout needs the owners' keys: --layout-key KEY (repeat for each)`);
  const file = (shown: string) => ({ path: resolve(ctx.io.cwd, shown), shown });
  return [
    await loadPolicy(
      {
        layout: file(f.layout),
        layoutKeys: f.layoutKey.map(file),
        namespaces: [],
        images: [],
        skipInspections: f.skipInspections === true,
      },
      (field, problem) =>
        new EvidentError('BAD_USAGE', `${command}: ${field === 'skipInspections' ? '--skip-inspections' : field}: ${problem}`),
    ),
  ];
}

/** `300`, `300s`, `5m`, `24h` → milliseconds. */
function duration(text: string, flag: string, command = 'gate serve'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) throw new EvidentError('BAD_USAGE', `${command}: ${flag} takes a duration such as 30s, 5m or 24h, not '${text}'`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}
