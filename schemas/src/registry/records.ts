import { SchemaError, SchemaErrorCode } from '../errors.js';

/**
 * The records of the `_schemas` topic, in the JSON Confluent's registry
 * writes, so the topic can be read by either. Keys are compared byte for byte
 * by log compaction, so they are always written with the fields in one
 * order. See docs/log-records.md.
 */

/** A schema version of a subject. */
export interface SchemaKey {
  keytype: 'SCHEMA';
  subject: string;
  version: number;
}

/** The compatibility level of a subject, or the global one when subject is null. */
export interface ConfigKey {
  keytype: 'CONFIG';
  subject: string | null;
}

/** The mode of a subject, or the global one when subject is null (Confluent's MODE records). */
export interface ModeKey {
  keytype: 'MODE';
  subject: string | null;
}

/**
 * The highest schema id ever handed out, written before a permanent delete
 * so that the id survives the compaction of the records that held it: a
 * restarted registry never hands a deleted id to another schema. This key
 * type is the project's own; Confluent's registry reads past it.
 */
export interface IdHighWaterKey {
  keytype: 'ID_HIGH_WATER';
}

/** A key this registry reads past (NOOP, DELETE_SUBJECT, CLEAR_SUBJECT and future types). */
export interface OtherKey {
  keytype: 'OTHER';
  raw: string;
}

export type RegistryKey = SchemaKey | ConfigKey | ModeKey | IdHighWaterKey | OtherKey;

/** The value of a SCHEMA record. */
export interface SchemaValue {
  subject: string;
  version: number;
  id: number;
  schema: string;
  /** Absent for AVRO, as Confluent writes it. */
  schemaType?: string;
  deleted: boolean;
}

/** The value of a CONFIG record. */
export interface ConfigValue {
  compatibilityLevel: string;
}

/** The value of a MODE record. */
export interface ModeValue {
  mode: string;
}

/** The value of an ID_HIGH_WATER record. */
export interface IdHighWaterValue {
  maxId: number;
}

/** The key bytes of a record. */
export function encodeKey(key: SchemaKey | ConfigKey | ModeKey | IdHighWaterKey): Buffer {
  switch (key.keytype) {
    case 'SCHEMA':
      return Buffer.from(
        `{"keytype":"SCHEMA","subject":${JSON.stringify(key.subject)},"version":${key.version},"magic":1}`,
      );
    case 'CONFIG':
      return Buffer.from(`{"keytype":"CONFIG","subject":${JSON.stringify(key.subject)},"magic":0}`);
    case 'MODE':
      return Buffer.from(`{"keytype":"MODE","subject":${JSON.stringify(key.subject)},"magic":0}`);
    case 'ID_HIGH_WATER':
      return Buffer.from('{"keytype":"ID_HIGH_WATER","magic":0}');
  }
}

/** The value bytes of a MODE record. */
export function encodeModeValue(value: ModeValue): Buffer {
  return Buffer.from(JSON.stringify({ mode: value.mode }));
}

/** The value bytes of an ID_HIGH_WATER record. */
export function encodeIdHighWaterValue(value: IdHighWaterValue): Buffer {
  return Buffer.from(JSON.stringify({ maxId: value.maxId }));
}

/** The value bytes of a SCHEMA record. */
export function encodeSchemaValue(value: SchemaValue): Buffer {
  const out: Record<string, unknown> = {
    subject: value.subject,
    version: value.version,
    id: value.id,
  };
  if (value.schemaType !== undefined && value.schemaType !== 'AVRO') out.schemaType = value.schemaType;
  out.schema = value.schema;
  out.deleted = value.deleted;
  return Buffer.from(JSON.stringify(out));
}

/** The value bytes of a CONFIG record. */
export function encodeConfigValue(value: ConfigValue): Buffer {
  return Buffer.from(JSON.stringify({ compatibilityLevel: value.compatibilityLevel }));
}

function bad(what: string, raw: string): SchemaError {
  return new SchemaError(SchemaErrorCode.RegistryRecord, `read ${what} on _schemas: ${raw.slice(0, 200)}`);
}

function parseObject(bytes: Buffer, what: string): Record<string, unknown> {
  const raw = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw bad(`a ${what} that is not JSON`, raw);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw bad(`a ${what} that is not an object`, raw);
  return parsed as Record<string, unknown>;
}

/** Reads a record key; throws SCHEMA_REGISTRY_RECORD when it is malformed. */
export function decodeKey(bytes: Buffer): RegistryKey {
  const raw = bytes.toString('utf8');
  const o = parseObject(bytes, 'key');
  switch (o.keytype) {
    case 'SCHEMA':
      if (typeof o.subject !== 'string' || !Number.isInteger(o.version)) throw bad('a SCHEMA key', raw);
      return { keytype: 'SCHEMA', subject: o.subject, version: o.version as number };
    case 'CONFIG':
    case 'MODE':
      if (o.subject !== null && o.subject !== undefined && typeof o.subject !== 'string')
        throw bad(`a ${o.keytype} key`, raw);
      return { keytype: o.keytype, subject: (o.subject as string | undefined) ?? null };
    case 'ID_HIGH_WATER':
      return { keytype: 'ID_HIGH_WATER' };
    default:
      return { keytype: 'OTHER', raw };
  }
}

/** Reads a SCHEMA value; throws SCHEMA_REGISTRY_RECORD when it is malformed. */
export function decodeSchemaValue(bytes: Buffer): SchemaValue {
  const o = parseObject(bytes, 'schema value');
  if (
    typeof o.subject !== 'string' ||
    !Number.isInteger(o.version) ||
    !Number.isInteger(o.id) ||
    typeof o.schema !== 'string'
  ) {
    throw bad('a schema value', bytes.toString('utf8'));
  }
  const value: SchemaValue = {
    subject: o.subject,
    version: o.version as number,
    id: o.id as number,
    schema: o.schema,
    deleted: o.deleted === true,
  };
  if (typeof o.schemaType === 'string') value.schemaType = o.schemaType;
  return value;
}

/** Reads a CONFIG value; throws SCHEMA_REGISTRY_RECORD when it is malformed. */
export function decodeConfigValue(bytes: Buffer): ConfigValue {
  const o = parseObject(bytes, 'config value');
  if (typeof o.compatibilityLevel !== 'string') throw bad('a config value', bytes.toString('utf8'));
  return { compatibilityLevel: o.compatibilityLevel };
}

/** Reads a MODE value; throws SCHEMA_REGISTRY_RECORD when it is malformed. */
export function decodeModeValue(bytes: Buffer): ModeValue {
  const o = parseObject(bytes, 'mode value');
  if (typeof o.mode !== 'string') throw bad('a mode value', bytes.toString('utf8'));
  return { mode: o.mode };
}

/** Reads an ID_HIGH_WATER value; throws SCHEMA_REGISTRY_RECORD when it is malformed. */
export function decodeIdHighWaterValue(bytes: Buffer): IdHighWaterValue {
  const o = parseObject(bytes, 'id high-water value');
  if (!Number.isInteger(o.maxId) || (o.maxId as number) < 0)
    throw bad('an id high-water value', bytes.toString('utf8'));
  return { maxId: o.maxId as number };
}
