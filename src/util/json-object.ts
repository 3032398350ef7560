/** A JSON object as parsed: its fields not checked yet. */
export type JsonObject = Record<string, unknown>;

/** Whether a parsed JSON value is an object: not null, not a list. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
