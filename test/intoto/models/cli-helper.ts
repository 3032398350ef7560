/** Runs the CLI in-process through `main` (src/cli/main.ts), as the other CLI tests do. */
export { runCli as runEvident, type CliResult } from '../../helpers/cli.js';
