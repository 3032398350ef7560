/**
 * google.protobuf.Struct as @grpc/proto-loader represents it (`{fields: {k: {kind, <kind>: v}}}`),
 * to and from plain JSON: ValidateJWTSVIDResponse.claims carries a JWT's claims in it.
 */
export interface ProtoValue {
  kind?: 'nullValue' | 'numberValue' | 'stringValue' | 'boolValue' | 'structValue' | 'listValue';
  nullValue?: unknown;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: ProtoStruct;
  listValue?: { values?: ProtoValue[] };
}

export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function toProtoValue(v: unknown): ProtoValue {
  if (v === null || v === undefined) return { kind: 'nullValue', nullValue: 'NULL_VALUE' };
  if (typeof v === 'number') return { kind: 'numberValue', numberValue: v };
  if (typeof v === 'string') return { kind: 'stringValue', stringValue: v };
  if (typeof v === 'boolean') return { kind: 'boolValue', boolValue: v };
  if (Array.isArray(v)) return { kind: 'listValue', listValue: { values: v.map(toProtoValue) } };
  return { kind: 'structValue', structValue: toStruct(v as Record<string, unknown>) };
}

export function toStruct(obj: Record<string, unknown>): ProtoStruct {
  return { fields: Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, toProtoValue(v)])) };
}

export function fromProtoValue(v: ProtoValue | undefined): Json {
  switch (v?.kind) {
    case 'numberValue':
      return v.numberValue ?? 0;
    case 'stringValue':
      return v.stringValue ?? '';
    case 'boolValue':
      return v.boolValue ?? false;
    case 'listValue':
      return (v.listValue?.values ?? []).map(fromProtoValue);
    case 'structValue':
      return fromStruct(v.structValue);
    default:
      return null;
  }
}

export function fromStruct(s: ProtoStruct | undefined | null): { [k: string]: Json } {
  return Object.fromEntries(Object.entries(s?.fields ?? {}).map(([k, v]) => [k, fromProtoValue(v)]));
}
