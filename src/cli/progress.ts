import type { CliContext } from './context.js';

/**
 * A progress line for long hashing on stderr, redrawn in place; only when stderr is a terminal, so CI
 * logs and pipes stay quiet.
 */
export function progressReporter(ctx: CliContext): ((done: number, total: number) => void) | undefined {
  const stream = ctx.io.stderr;
  if (!stream.isTTY) return undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 100 && done !== total) return;
    last = now;
    stream.write(`\r\x1b[Khashing ${done}/${total} files`);
    if (done === total) stream.write('\r\x1b[K');
  };
}
