import { CliContext, type CliIo } from './context.js';
import { nestedHelpAsFlag, registerCommands } from './commands.js';

export const VERSION = '0.1.0';

/**
 * Runs the evident CLI with the given arguments and returns the exit code (docs/ARCHITECTURE.md, CLI contract):
 * 0 success, 1 verification failed, 2 usage or input error, 3 environment problem.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const ctx = new CliContext(io);
  // asked often, by scripts and package managers: answered before commander or any command is loaded
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    ctx.out(VERSION);
    return 0;
  }
  const { Command, CommanderError } = await import('commander');
  const program = new Command('evident')
    .description('Evidence-based supply-chain security: in-toto evidence signed by SPIFFE identities')
    .version(VERSION)
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(s.startsWith('error:') ? `evident: ${s}` : s),
    });
  try {
    await registerCommands(program, ctx, argv);
    await program.parseAsync(nestedHelpAsFlag(program, argv), { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are not errors; every other commander error is a usage error
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    return ctx.report(e);
  }
  return ctx.exitCode;
}
