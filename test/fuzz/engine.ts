/**
 * A mutation fuzzer for evident's parsers of untrusted input. fast-check draws the mutations (so a run is
 * reproducible from its seed); this file applies them to a seed corpus made by evident's own generators,
 * runs the target, and judges the outcome with one oracle: a parser returns a result or throws an
 * EvidentError with a code. Anything else (a TypeError, a RangeError from deep recursion, a message from
 * OpenSSL or the ASN.1 library) is a finding, and so is an input that takes more than HANG_MS of CPU time.
 */
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { isEvidentError } from '../../src/errors.js';

/** An input that takes more CPU time than this is a hang: a verifier must not be stalled by one file. */
export const HANG_MS = 1000;

export interface FuzzTarget {
  readonly name: string;
  /** What is fuzzed: the entry function(s). */
  readonly entry: string;
  /** Real inputs made by evident's own code; mutations start from these. */
  seeds(): Promise<Buffer[]>;
  /** Feeds one input to the parser; returns or throws. */
  run(input: Buffer): unknown;
  /** Tokens worth splicing in (field names, keywords), besides the generic ones. */
  readonly dictionary?: readonly string[];
}

export interface Finding {
  readonly target: string;
  readonly kind: 'crash' | 'hang';
  /** What identifies the crash class: error name, message shape, first frame in src/. */
  readonly signature: string;
  readonly message: string;
  readonly reproducer: string;
  count: number;
}

export interface FuzzReport {
  readonly target: string;
  readonly inputs: number;
  readonly seconds: number;
  readonly findings: Finding[];
}

export interface FuzzBudget {
  iterations?: number;
  seconds?: number;
  /** fast-check seed of the first batch (each batch adds one). */
  seed?: number;
  /** Where reproducers are written. */
  outDir: string;
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'splice'; other: number; at: number; from: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'nest'; at: number; depth: number; open: string; close: string }
  | { kind: 'repeat'; at: number; text: string; times: number };

const GENERIC_TOKENS = [
  '\u0000',
  '-',
  '"',
  '\\',
  '\\u0000',
  '\\ud800',
  '\ud800',
  '\u202e',
  '\ufeff',
  'é',
  '𝔘',
  '0',
  '-1',
  '1e400',
  '-0',
  '1.5',
  '99999999999999999999999999999999',
  '9007199254740993',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  '""',
  ':',
  ',',
  '&a ',
  '*a',
  '<<: ',
  '!!binary ',
  '---\n',
  '\n',
  ' ',
  '%',
  '/',
  '..',
  '../',
  '*',
  '@',
  '#',
  '0x',
  'ff',
  '\u00ff',
];

const NESTINGS: readonly [string, string][] = [
  ['[', ']'],
  ['{"a":', '}'],
  ['- ', ''],
  ['[', ''],
  ['{', ''],
  ['0\x30\x82', ''],
  ['((', '))'],
  ['!', ''],
];

function mutationArb(tokens: readonly string[]): fc.Arbitrary<Mutation> {
  const at = fc.nat();
  const token = fc.oneof(fc.constantFrom(...tokens), fc.string({ unit: 'binary', maxLength: 8 }));
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at, bit: fc.nat(7) }) },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('byte' as const), at, value: fc.constantFrom(0, 0x7f, 0x80, 0xff, 0x30, 0x22, 0x5c, 0x0a) }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 64 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at, length: fc.integer({ min: 1, max: 256 }) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('splice' as const),
        other: fc.nat(),
        at,
        from: fc.nat(),
        length: fc.integer({ min: 1, max: 512 }),
      }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, text: token }) },
    {
      weight: 1,
      arbitrary: fc
        .record({
          at,
          depth: fc.oneof(fc.integer({ min: 2, max: 200 }), fc.integer({ min: 1000, max: 20000 })),
          pair: fc.constantFrom(...NESTINGS),
        })
        .map(({ at, depth, pair }) => ({ kind: 'nest' as const, at, depth, open: pair[0], close: pair[1] })),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('repeat' as const), at, text: token, times: fc.integer({ min: 2, max: 5000 }) }),
    },
  );
}

function apply(input: Buffer, m: Mutation, corpus: readonly Buffer[]): Buffer {
  const n = input.length;
  const pos = n === 0 ? 0 : m.at % (n + 1);
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return input;
      const out = Buffer.from(input);
      out[m.at % n]! ^= 1 << m.bit;
      return out;
    }
    case 'byte': {
      if (n === 0) return Buffer.from([m.value]);
      const out = Buffer.from(input);
      out[m.at % n] = m.value;
      return out;
    }
    case 'truncate':
      return input.subarray(0, pos);
    case 'delete':
      return Buffer.concat([input.subarray(0, pos), input.subarray(pos + m.length)]);
    case 'duplicate':
      return Buffer.concat([input.subarray(0, pos + m.length), input.subarray(pos)]);
    case 'splice': {
      const other = corpus[m.other % corpus.length]!;
      const from = other.length === 0 ? 0 : m.from % other.length;
      return Buffer.concat([input.subarray(0, pos), other.subarray(from, from + m.length), input.subarray(pos)]);
    }
    case 'insert':
      return Buffer.concat([input.subarray(0, pos), Buffer.from(m.text), input.subarray(pos)]);
    case 'nest':
      return Buffer.concat([input.subarray(0, pos), Buffer.from(m.open.repeat(m.depth) + m.close.repeat(m.depth)), input.subarray(pos)]);
    case 'repeat':
      return Buffer.concat([input.subarray(0, pos), Buffer.from(m.text.repeat(m.times)), input.subarray(pos)]);
  }
}

/** Inputs for one batch: a seed, mutated one to four times. */
function batch(corpus: readonly Buffer[], tokens: readonly string[], size: number, seed: number): Buffer[] {
  const arb = fc.record({ base: fc.nat(), mutations: fc.array(mutationArb(tokens), { minLength: 1, maxLength: 4 }) });
  return fc.sample(arb, { numRuns: size, seed }).map(({ base, mutations }) => {
    let input = corpus[base % corpus.length]!;
    for (const m of mutations) input = apply(input, m, corpus);
    return input;
  });
}

/** The message with numbers and quoted parts blanked, so one crash class is one finding. */
function shape(message: string): string {
  return message
    .split('\n')[0]!
    .replace(/'[^']*'|"[^"]*"|`[^`]*`/g, 'Q')
    .replace(/\d+/g, 'N')
    .slice(0, 120);
}

function firstSourceFrame(error: Error): string {
  for (const line of (error.stack ?? '').split('\n').slice(1)) {
    const m = /\/(src\/[^):]+:\d+)/.exec(line);
    if (m) return m[1]!;
  }
  return '?';
}

export type Outcome =
  | { readonly kind: 'ok'; readonly cpuMs: number }
  | { readonly kind: Finding['kind']; readonly cpuMs: number; readonly signature: string; readonly message: string };

/** How one input ends: returned or refused with an EvidentError (ok), another error (crash), too much CPU (hang). */
export async function outcome(target: FuzzTarget, input: Buffer): Promise<Outcome> {
  // CPU time, not wall time: on a loaded machine (CI, five people on two cores) a quick parse can wait
  // for a core for seconds; a hang is work, and work is CPU time (of every thread of this process)
  const t0 = process.cpuUsage();
  let crash: Error | undefined;
  try {
    await target.run(input);
  } catch (e) {
    if (!isEvidentError(e)) crash = e instanceof Error ? e : new Error(String(e));
  }
  const used = process.cpuUsage(t0);
  const cpuMs = (used.user + used.system) / 1000;
  if (crash !== undefined) {
    const message = `${crash.name}: ${crash.message.split('\n')[0]!.slice(0, 300)}`;
    return { kind: 'crash', cpuMs, signature: `${crash.name}: ${shape(crash.message)} @ ${firstSourceFrame(crash)}`, message };
  }
  if (cpuMs > HANG_MS)
    return { kind: 'hang', cpuMs, signature: `hang @ ${input.length} bytes`, message: `took ${Math.round(cpuMs)} ms of CPU` };
  return { kind: 'ok', cpuMs };
}

/** Runs `target` within the budget; every finding is returned, its first reproducer written to outDir. */
export async function fuzz(target: FuzzTarget, budget: FuzzBudget): Promise<FuzzReport> {
  const corpus = await target.seeds();
  if (corpus.length === 0) throw new Error(`${target.name}: no seeds`);
  const tokens = [...GENERIC_TOKENS, ...(target.dictionary ?? [])];
  const findings = new Map<string, Finding>();
  const started = performance.now();
  const deadline = budget.seconds === undefined ? Infinity : started + budget.seconds * 1000;
  const limit = budget.iterations ?? (budget.seconds === undefined ? 10_000 : Infinity);
  let inputs = 0;
  let seed = budget.seed ?? Date.now() % 2 ** 31;

  const record = (input: Buffer, kind: Finding['kind'], signature: string, message: string): void => {
    const known = findings.get(signature);
    if (known) {
      known.count++;
      return;
    }
    const dir = join(budget.outDir, target.name);
    mkdirSync(dir, { recursive: true });
    const reproducer = join(dir, `${kind}-${createHash('sha256').update(input).digest('hex').slice(0, 16)}.bin`);
    writeFileSync(reproducer, input);
    findings.set(signature, { target: target.name, kind, signature, message, reproducer, count: 1 });
  };

  // Each input is written here before it runs: an input that kills the process outright (a native assertion
  // in Node's crypto aborts it; no JavaScript runs after) is found in this file afterwards. Two syscalls per
  // input into one open file, a few microseconds.
  const lastInput = lastInputFile(budget.outDir, target.name);
  const fd = openSync(lastInput, 'w');
  const runOne = async (input: Buffer): Promise<void> => {
    writeSync(fd, input, 0, input.length, 0);
    ftruncateSync(fd, input.length);
    const result = await outcome(target, input);
    if (result.kind !== 'ok') record(input, result.kind, result.signature, result.message);
  };

  // the seeds themselves first: a seed that fails is a broken target, not a finding
  for (const input of corpus) {
    await runOne(input);
    inputs++;
  }
  while (inputs < limit && performance.now() < deadline) {
    const size = Math.min(200, limit - inputs);
    for (const input of batch(corpus, tokens, size, seed++)) {
      await runOne(input);
      inputs++;
      if (performance.now() >= deadline) break;
    }
  }
  closeSync(fd);
  rmSync(lastInput, { force: true });
  return { target: target.name, inputs, seconds: (performance.now() - started) / 1000, findings: [...findings.values()] };
}

/** Where `fuzz` keeps the input it is running; left behind only when the process died on it. */
export function lastInputFile(outDir: string, target: string): string {
  mkdirSync(join(outDir, target), { recursive: true });
  return join(outDir, target, 'last-input.bin');
}
