import { isCelList, isCelMap, isCelUint } from '@bufbuild/cel';
import { isReflectMessage } from '@bufbuild/protobuf/reflect';

/** How long one value may be in a message: enough for a finding (package, version, advisory), not for a list of them. */
export const MAX_SHOWN = 300;
const ITEMS_SHOWN = 3;
const ENTRIES_SHOWN = 8;
const STRING_SHOWN = 120;

/**
 * A value a rule saw, as one short line of CEL-like JSON: long strings, lists and maps are cut, saying
 * how much was left out (`[{…}, {…}, {…}, … 9997 more]`), so a message naming a 10 000-finding list stays a line.
 */
export function showValue(value: unknown): string {
  const text = show(value, 0);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

function show(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > STRING_SHOWN ? `${v.slice(0, STRING_SHOWN)}…` : v);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'undefined':
      return 'absent';
    case 'object':
      break;
    default:
      return String(v);
  }
  if (v === null) return 'null';
  if (depth > 4) return '…';
  if (isCelUint(v)) return `${v.value}u`;
  if (v instanceof Uint8Array) return `b"${Buffer.from(v.subarray(0, 48)).toString('base64')}${v.length > 48 ? '…' : ''}"`;
  if (isCelList(v) || Array.isArray(v)) {
    const items = isCelList(v) ? v : (v as unknown[]);
    const size = isCelList(v) ? v.size : (v as unknown[]).length;
    const shown: string[] = [];
    for (const item of items) {
      if (shown.length === ITEMS_SHOWN) break;
      shown.push(show(item, depth + 1));
    }
    return `[${shown.join(', ')}${size > ITEMS_SHOWN ? `, … ${size - ITEMS_SHOWN} more` : ''}]`;
  }
  // a timestamp reaches a rule's values as the engine's reflection of the message
  const message = (isReflectMessage(v) ? v.message : v) as { $typeName?: string; seconds?: bigint; nanos?: number };
  if (message.$typeName === 'google.protobuf.Timestamp') {
    return `timestamp(${JSON.stringify(new Date(Number(message.seconds) * 1000 + Math.floor((message.nanos ?? 0) / 1e6)).toISOString())})`;
  }
  if (message.$typeName === 'google.protobuf.Duration') return `duration("${message.seconds}s")`;
  // a map of 10^5 products is shown by its first entries, never copied whole
  const asMap = isCelMap(v) || v instanceof Map;
  const size = asMap ? (v as ReadonlyMap<unknown, unknown>).size : Object.keys(v).length;
  const shown: string[] = [];
  for (const [k, x] of asMap ? (v as ReadonlyMap<unknown, unknown>).entries() : Object.entries(v)) {
    if (shown.length === ENTRIES_SHOWN) break;
    shown.push(`${show(k, depth + 1)}: ${show(x, depth + 1)}`);
  }
  return `{${shown.join(', ')}${size > ENTRIES_SHOWN ? `, … ${size - ENTRIES_SHOWN} more` : ''}}`;
}
