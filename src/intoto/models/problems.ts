import { EvidentError } from '../../errors.js';
import { isObject, type JsonObject } from '../../util/json-object.js';

export { isObject, type JsonObject };

/** Problems kept per document; past it they are only counted (a hostile file can hold millions). */
export const MAX_PROBLEMS = 50;

/**
 * Collects the problems found in one document so the user fixes them in one round instead of one per
 * run. Each problem is one line, `<where>: <what>`, `where` a field path like `steps[1].threshold`. The
 * first MAX_PROBLEMS are kept and the rest counted, so a link listing 10^6 bad artifacts costs no more
 * memory or output than one listing 50.
 */
export class Problems {
  private readonly lines: string[] = [];
  private omitted = 0;

  add(where: string, message: string): void {
    if (this.lines.length >= MAX_PROBLEMS) this.omitted++;
    else this.lines.push(where === '' ? message : `${where}: ${message}`);
  }

  /** How many problems were found, kept or not. */
  get size(): number {
    return this.lines.length + this.omitted;
  }

  /** Counts problems found in bulk past the cap without listing them (a parser's run of errors). */
  addUnlisted(count: number): void {
    this.omitted += count;
  }

  /** The problems kept, one line each. */
  kept(): readonly string[] {
    return this.lines;
  }

  /** `and N more problems (…)` when some were only counted. */
  unlisted(): string | undefined {
    return this.omitted === 0 ? undefined : `and ${this.omitted} more problems (only the first ${MAX_PROBLEMS} are shown)`;
  }

  /** The problems kept, then how many more. */
  list(): readonly string[] {
    const more = this.unlisted();
    return more === undefined ? this.lines : [...this.lines, more];
  }

  /** Throws one BAD_INPUT error listing the problems (one per line), if there are any. */
  throwIfAny(file?: string): void {
    if (this.size > 0) throw new ValidationError(this.list(), file);
  }
}

/**
 * A document that failed validation. `message` holds one problem per line; `problems` holds them
 * separately so a CLI can prefix each line with the file name.
 */
export class ValidationError extends EvidentError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], file?: string) {
    super('BAD_INPUT', problems.join('\n'), { file });
    this.problems = [...problems];
  }

  override inFile(file: string): EvidentError {
    if (this.file !== undefined) return this;
    return new ValidationError(this.problems, file);
  }
}

/** Each line of an error's message as `evident: <file>: <line>`, what a CLI prints. */
export function errorLines(e: EvidentError): string[] {
  const prefix = `evident: ${e.file !== undefined ? `${e.file}: ` : ''}`;
  return e.message.split('\n').map((line) => `${prefix}${line}`);
}

export function join(where: string, field: string | number): string {
  if (typeof field === 'number') return `${where}[${field}]`;
  return where === '' ? field : `${where}.${field}`;
}

/** The JSON type of a value, for messages: "a number", "a list", "null" … */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** Reports fields of `obj` not in `known` (the reference would ignore them and sign without them). */
export function checkKnownFields(obj: JsonObject, known: readonly string[], where: string, problems: Problems): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) problems.add(join(where, key), `unknown field (expected one of: ${known.join(', ')})`);
  }
}

/** A string field; reports and returns undefined when it is something else. */
export function stringField(
  obj: JsonObject,
  key: string,
  where: string,
  problems: Problems,
  options: { required?: boolean } = {},
): string | undefined {
  const value = obj[key];
  if (value === undefined) {
    if (options.required) problems.add(join(where, key), 'is missing');
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.add(join(where, key), `must be a string, not ${describeType(value)}`);
    return undefined;
  }
  return value;
}

/** A list of strings (e.g. a command); reports every element that is not a string. */
export function stringList(value: unknown, where: string, problems: Problems): string[] | undefined {
  if (!Array.isArray(value)) {
    problems.add(where, `must be a list of strings, not ${describeType(value)}`);
    return undefined;
  }
  let ok = true;
  value.forEach((item, i) => {
    if (typeof item !== 'string') {
      problems.add(join(where, i), `must be a string, not ${describeType(item)}`);
      ok = false;
    }
  });
  return ok ? [...(value as string[])] : undefined;
}

const HEX = /^[0-9a-fA-F]+$/;

/** securesystemslib's HEX_SCHEMA: one or more hex digits, either case. */
export function isHex(value: unknown): value is string {
  return typeof value === 'string' && HEX.test(value);
}

/**
 * A step, inspection or link name becomes a file name (`<name>.<keyid>.link`, a sublayout folder), so
 * it must not be empty, `.`/`..`, or hold `/` or NUL, which would leave the link folder.
 */
export function nameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name === '.' || name === '..') return `'${name}' is not a usable name (link files are named after it)`;
  if (name.includes('/')) return `'${name}' must not contain '/' (link files are named after it)`;
  if (name.includes('\0')) return 'must not contain a NUL character';
  return undefined;
}

/** A JSON value as the rule or command it is, for messages: `"MATCH foo WITH BAR"`. */
export function show(value: unknown): string {
  return JSON.stringify(value);
}
