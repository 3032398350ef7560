/**
 * A process entry point for end-to-end tests: the real CLI (src/cli/context.ts + registerServer) in its
 * own process, used while src/cli/commands.ts does not register `server` yet (then bin/evident is used).
 */
import { runServerCli } from './cli-harness.js';

const res = await runServerCli(process.argv.slice(2), process.env, process.cwd());
process.stdout.write(res.stdout);
process.stderr.write(res.stderr);
process.exitCode = res.code;
