import { EvidentError } from '../errors.js';
import type { OutputStream } from './context.js';

/**
 * Asks for a secret on the terminal: `prompt` on `echo` (stderr, so stdout stays the command's output),
 * then one line read from `input` in raw mode, so nothing typed is shown. Backspace and Ctrl-U edit;
 * Enter (or Ctrl-D) ends it; Ctrl-C cancels, as it would at any other prompt.
 */
export function readHidden(input: NodeJS.ReadStream, echo: OutputStream, prompt: string): Promise<string> {
  const wasRaw = input.isRaw;
  // raw (no echo) before the prompt shows: an answer typed as soon as it appears must not be echoed
  input.setRawMode(true);
  input.setEncoding('utf8');
  echo.write(prompt);
  return new Promise((resolve, reject) => {
    let typed: string[] = [];
    const finish = (outcome: () => void): void => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      // paused, stdin no longer keeps this process alive, and a command run next reads the terminal alone
      input.pause();
      echo.write('\n');
      outcome();
    };
    const onData = (chunk: string): void => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n' || c === '\u0004') return finish(() => resolve(typed.join('')));
        if (c === '\u0003') return finish(() => reject(new EvidentError('BAD_USAGE', 'cancelled at the password prompt')));
        if (c === '\u007f' || c === '\b') typed = typed.slice(0, -1);
        else if (c === '\u0015') typed = [];
        else if (c >= ' ') typed.push(c);
      }
    };
    input.on('data', onData);
    input.resume();
  });
}
