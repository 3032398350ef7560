import { readFile, stat } from 'node:fs/promises';
import { EvidentError } from '../../../errors.js';

/**
 * `--tpm-allowed-hashes FILE`: the machines that may attest with their TPM, by the SHA-256 of their
 * endorsement key (the hex of `tpm:pub_hash`), one per line; `#` starts a comment, blank lines are
 * ignored, case does not matter. The file is read again when it changes (its size, time or inode), so a
 * machine is added or removed without restarting the server. A file that no longer reads or parses
 * refuses every TPM attestation (fail closed) until it is fixed, naming the file and line.
 */
export class TpmAllowList {
  private constructor(
    readonly file: string,
    private hashes: ReadonlySet<string>,
    private stamp: string,
  ) {}

  /**
   * Reads and checks the file at start-up.
   *
   * @throws EvidentError BAD_INPUT naming the file (and line) when it is unreadable or a line is not a hash
   */
  static async load(file: string): Promise<TpmAllowList> {
    const { hashes, stamp } = await read(file, 'BAD_INPUT');
    return new TpmAllowList(file, hashes, stamp);
  }

  get size(): number {
    return this.hashes.size;
  }

  /** Whether `hash` (lowercase hex) is allowed, after reading the file again if it changed. */
  async allows(hash: string): Promise<boolean> {
    const now = await stampOf(this.file, 'ENVIRONMENT');
    if (now !== this.stamp) {
      const { hashes, stamp } = await read(this.file, 'ENVIRONMENT');
      this.hashes = hashes;
      this.stamp = stamp;
    }
    return this.hashes.has(hash);
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The hashes of an allow-list's text; `file` names it in errors. */
export function parseAllowedHashes(text: string, file: string): Set<string> {
  const hashes = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim().toLowerCase();
    if (line === '') return;
    if (!SHA256_HEX.test(line))
      throw new EvidentError(
        'BAD_INPUT',
        `TPM allow-list line ${i + 1}: '${raw.trim().slice(0, 80)}' is not the SHA-256 of an EK (64 hex digits, one per line)`,
        { file },
      );
    hashes.add(line);
  });
  return hashes;
}

/**
 * BAD_INPUT at start-up (the CLI prints the file first); ENVIRONMENT while serving, the file in the
 * message, which is all an agent's refusal carries.
 */
type Code = 'BAD_INPUT' | 'ENVIRONMENT';

function failure(code: Code, file: string, message: string, cause: unknown): EvidentError {
  return code === 'BAD_INPUT'
    ? new EvidentError(code, message, { file, cause })
    : new EvidentError(code, `${file}: ${message} (every TPM attestation is refused until it is fixed)`, { cause });
}

async function stampOf(file: string, code: Code): Promise<string> {
  try {
    const s = await stat(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (e) {
    throw failure(code, file, `cannot read the TPM allow-list: ${(e as Error).message}`, e);
  }
}

async function read(file: string, code: Code): Promise<{ hashes: Set<string>; stamp: string }> {
  const stamp = await stampOf(file, code);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw failure(code, file, `cannot read the TPM allow-list: ${(e as Error).message}`, e);
  }
  try {
    return { hashes: parseAllowedHashes(text, file), stamp };
  } catch (e) {
    throw failure(code, file, (e as Error).message, e);
  }
}
