import type { Command } from 'commander';
import type { CliContext } from './context.js';

type Register = (program: Command, ctx: CliContext) => void;

/** One top-level command: how the top-level help lists it, and how to load the file that defines it. */
export interface CommandEntry {
  /** Its line in `evident --help`: name, `[options]` and arguments, as commander writes them. */
  readonly term: string;
  readonly description: string;
  readonly load: () => Promise<Register>;
}

/**
 * Every CLI command, one file each; this table is the only place that knows them all. A command's file is
 * loaded only when that command runs (or shows its help): `evident verify` should not pay for gRPC, SQLite
 * and X.509 libraries it never uses, and `evident --help` lists the commands from this table without
 * loading any (test/cli/startup.test.ts checks the table against the files).
 */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  keygen: {
    term: 'keygen [options] <name>',
    description: 'generate a signing key pair: NAME (private, mode 0600) and NAME.pub',
    load: async () => (await import('./keygen.js')).registerKeygen,
  },
  run: {
    term: 'run [options] [command...]',
    description: 'record a supply-chain step: hash materials, run the command, hash products, sign the link',
    load: async () => (await import('./run.js')).registerRun,
  },
  record: {
    term: 'record',
    description: 'record a step that is not a single command: start before, stop after',
    load: async () => (await import('./record.js')).registerRecord,
  },
  verify: {
    term: 'verify [options]',
    description: 'verify that a product followed its signed layout (in-toto final product verification)',
    load: async () => (await import('./verify.js')).registerVerify,
  },
  sign: {
    term: 'sign [options] [file]',
    description: 'sign a layout or link (replacing its signatures, or --append), or --verify its signatures',
    load: async () => (await import('./sign.js')).registerSign,
  },
  layout: {
    term: 'layout',
    description: 'write layouts (the signed supply-chain policy)',
    load: async () => (await import('./layout.js')).registerLayout,
  },
  svid: {
    term: 'svid',
    description: 'fetch and check SPIFFE identities from the Workload API',
    load: async () => (await import('./svid.js')).registerSvid,
  },
  server: {
    term: 'server',
    description: 'the SPIFFE identity server: CA, registration entries, node attestation',
    load: async () => (await import('./server.js')).registerServer,
  },
  agent: {
    term: 'agent',
    description: 'the SPIFFE node agent: attests workloads and serves the Workload API',
    load: async () => (await import('./agent.js')).registerAgent,
  },
  image: {
    term: 'image',
    description: 'build, unpack and inspect OCI image-layout tarballs (no container engine needed)',
    load: async () => (await import('./image.js')).registerImage,
  },
  sbom: {
    term: 'sbom',
    description: 'software bills of materials (CycloneDX JSON)',
    load: async () => (await import('./sbom.js')).registerSbom,
  },
  scan: {
    term: 'scan',
    description: 'match an SBOM against OSV advisories and enforce a severity threshold',
    load: async () => (await import('./scan.js')).registerScan,
  },
  demo: {
    term: 'demo [options]',
    description: 'secure a Hello World pipeline with evident, verify it from an evidence store, and show that attacks are caught',
    load: async () => (await import('./demo.js')).registerDemo,
  },
  store: {
    term: 'store',
    description: 'the evidence store: keep links, layouts and attestations in one place, find them by digest',
    load: async () => (await import('./store.js')).registerStore,
  },
  gate: {
    term: 'gate',
    description: 'the deployment gate: admit only artifacts whose evidence in the store verifies',
    load: async () => (await import('./gate.js')).registerGate,
  },
  tsa: {
    term: 'tsa',
    description: 'an RFC 3161 time-stamping authority',
    load: async () => (await import('./tsa.js')).registerTsa,
  },
};

/**
 * The command `argv` runs: its first word, or the word after `help` (`evident help server`). Undefined for
 * the top level (`evident`, `evident --help`, `evident help`) and for a word that is no command (a typo).
 */
export function commandNamed(argv: readonly string[]): string | undefined {
  const word = argv[0] === 'help' ? argv[1] : argv[0];
  return word !== undefined && Object.hasOwn(COMMANDS, word) ? word : undefined;
}

/**
 * Registers the command `argv` runs, loading its file; for the top level, every command as a stand-in of
 * its name, help line and description only: enough to list them in the help and to suggest one for a typo.
 */
export async function registerCommands(program: Command, ctx: CliContext, argv: readonly string[]): Promise<void> {
  const name = commandNamed(argv);
  if (name !== undefined) {
    (await COMMANDS[name]!.load())(program, ctx);
    return;
  }
  const terms = new Map<Command, string>();
  for (const [n, entry] of Object.entries(COMMANDS)) terms.set(program.command(n).description(entry.description), entry.term);
  const help = program.createHelp();
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd) ?? help.subcommandTerm(cmd) });
}

/**
 * `evident server help run` as `evident server run --help`: commander prints a subcommand's help for
 * `help NAME` without running the hooks that add flags loaded on demand (`addSettingOptionsWhenUsed`),
 * so the nested help form would miss them. The top level's `help NAME` is left alone (registerCommands
 * loads NAME's file).
 */
export function nestedHelpAsFlag(program: Command, argv: readonly string[]): string[] {
  let cmd = program;
  for (const [i, word] of argv.entries()) {
    const sub = (name: string | undefined): Command | undefined => cmd.commands.find((c) => c.name() === name);
    if (i > 0 && word === 'help' && sub(argv[i + 1]) !== undefined)
      return [...argv.slice(0, i), argv[i + 1]!, '--help', ...argv.slice(i + 2)];
    const next = sub(word);
    if (next === undefined) break;
    cmd = next;
  }
  return [...argv];
}
