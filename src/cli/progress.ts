import type { CliContext } from './context.js';

/**
 * A progress line for long hashing on stderr, redrawn in place; only when stderr is a terminal, so CI
 * logs and pipes stay quiet.
 */
/**
 * A line on stderr naming the stage long work is in (`verify: applying the rules of build`), redrawn in
 * place; only when stderr is a terminal. `clear` takes it away before results are written.
 */
export function stageReporter(ctx: CliContext, label: string): { stage: (text: string) => void; clear: () => void } | undefined {
  const stream = ctx.io.stderr;
  if (!stream.isTTY) return undefined;
  let shown = false;
  return {
    stage(text) {
      stream.write(`\r\x1b[K${label}: ${text}`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}

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
