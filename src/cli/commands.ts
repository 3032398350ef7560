import type { Command } from 'commander';
import type { CliContext } from './context.js';

type Register = (program: Command, ctx: CliContext) => void;

/**
 * Every CLI command, one file each; this table is the only place that knows them all. Commands are
 * loaded on demand: `evident verify` should not pay for loading gRPC, SQLite and X.509 libraries it
 * never uses (that alone was most of a second of start-up).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  keygen: async () => (await import('./keygen.js')).registerKeygen,
  run: async () => (await import('./run.js')).registerRun,
  record: async () => (await import('./record.js')).registerRecord,
  verify: async () => (await import('./verify.js')).registerVerify,
  sign: async () => (await import('./sign.js')).registerSign,
  layout: async () => (await import('./layout.js')).registerLayout,
  svid: async () => (await import('./svid.js')).registerSvid,
  server: async () => (await import('./server.js')).registerServer,
  agent: async () => (await import('./agent.js')).registerAgent,
  image: async () => (await import('./image.js')).registerImage,
  sbom: async () => (await import('./sbom.js')).registerSbom,
  scan: async () => (await import('./scan.js')).registerScan,
  demo: async () => (await import('./demo.js')).registerDemo,
};

/** Registers the command `argv` names, or all of them when it names none (help, version, a typo). */
export async function registerCommands(program: Command, ctx: CliContext, argv: readonly string[]): Promise<void> {
  const name = argv.find((a) => !a.startsWith('-'));
  const wanted = name !== undefined && Object.hasOwn(COMMANDS, name) ? [name] : Object.keys(COMMANDS);
  for (const registerOne of await Promise.all(wanted.map((n) => COMMANDS[n]!()))) registerOne(program, ctx);
}
