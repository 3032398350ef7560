// `evident …` as a real process run from source (argv → exit code), for the tests that feed a token on
// standard input; in-process CLI tests use runCli from test/helpers/cli.ts.
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
