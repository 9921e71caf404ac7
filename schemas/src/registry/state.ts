import avro from 'avsc';
import type { CompatibilityLevel } from './compatibility.js';
import { isCompatibilityLevel } from './compatibility.js';
import {
  type ConfigValue,
  decodeConfigValue,
  decodeKey,
  decodeSchemaValue,
  type RegistryKey,
  type SchemaValue,
} from './records.js';

/** A schema version as the registry holds it. */
export interface StoredVersion extends SchemaValue {
  /** The identity used to find an already registered schema: avsc's export of the parsed schema. */
  canonical: string;
}

/** Parses an Avro schema text; throws avsc's error when it is not a valid schema. */
export function parseAvro(schema: string): avro.Type {
  return avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
}

/** The identity of a schema text: two texts that parse to the same schema (whitespace, key order) share it. */
export function canonicalOf(schema: string): string {
  try {
    return JSON.stringify(parseAvro(schema).schema({ exportAttrs: true }));
  } catch {
    return schema;
  }
}

/**
 * The registry's state, built only by applying the records of `_schemas` in
 * order. Writes go to the log first and reach this state when read back, so
 * every registry instance on the same topic converges on the same state.
 */
export class RegistryState {
  private readonly subjects = new Map<string, Map<number, StoredVersion>>();
  private readonly types = new Map<string, avro.Type>();
  private globalLevel: CompatibilityLevel | undefined;
  private readonly subjectLevels = new Map<string, CompatibilityLevel>();
  /** Records applied, and records skipped as unreadable. */
  applied = 0;
  skipped = 0;

  /** Applies one record; a record that does not parse is counted and skipped, as compaction may keep it forever. */
  apply(keyBytes: Buffer | null, valueBytes: Buffer | null): { skipped?: Error } {
    if (keyBytes === null) {
      this.skipped++;
      return { skipped: new Error('record without a key') };
    }
    let key: RegistryKey;
    try {
      key = decodeKey(keyBytes);
      if (key.keytype === 'SCHEMA') this.applySchema(key.subject, key.version, valueBytes);
      else if (key.keytype === 'CONFIG')
        this.applyConfig(key.subject, valueBytes === null ? null : decodeConfigValue(valueBytes));
      this.applied++;
      return {};
    } catch (err) {
      this.skipped++;
      return { skipped: err as Error };
    }
  }

  private applySchema(subject: string, version: number, valueBytes: Buffer | null): void {
    if (valueBytes === null) {
      const versions = this.subjects.get(subject);
      versions?.delete(version);
      if (versions !== undefined && versions.size === 0) this.subjects.delete(subject);
      return;
    }
    const value = decodeSchemaValue(valueBytes);
    let versions = this.subjects.get(value.subject);
    if (versions === undefined) {
      versions = new Map();
      this.subjects.set(value.subject, versions);
    }
    versions.set(value.version, { ...value, canonical: canonicalOf(value.schema) });
  }

  private applyConfig(subject: string | null, value: ConfigValue | null): void {
    const level =
      value !== null && isCompatibilityLevel(value.compatibilityLevel) ? value.compatibilityLevel : undefined;
    if (subject === null) this.globalLevel = level;
    else if (level === undefined) this.subjectLevels.delete(subject);
    else this.subjectLevels.set(subject, level);
  }

  /** The global level, BACKWARD when none was set. */
  globalCompatibility(): CompatibilityLevel {
    return this.globalLevel ?? 'BACKWARD';
  }

  /** The level set on a subject itself, if any. */
  subjectCompatibility(subject: string): CompatibilityLevel | undefined {
    return this.subjectLevels.get(subject);
  }

  /** The level that applies to a subject. */
  effectiveCompatibility(subject: string): CompatibilityLevel {
    return this.subjectLevels.get(subject) ?? this.globalCompatibility();
  }

  /** Subject names with a live version (or any version when deleted is true), sorted. */
  subjectNames(deleted = false): string[] {
    const names: string[] = [];
    for (const [name, versions] of this.subjects) {
      if (deleted || [...versions.values()].some((v) => !v.deleted)) names.push(name);
    }
    return names.sort();
  }

  /** The versions of a subject in ascending order, soft-deleted ones only when asked for. */
  versions(subject: string, deleted = false): StoredVersion[] {
    const versions = this.subjects.get(subject);
    if (versions === undefined) return [];
    return [...versions.values()].filter((v) => deleted || !v.deleted).sort((a, b) => a.version - b.version);
  }

  /** Whether a subject has any record, live or soft-deleted. */
  hasSubject(subject: string): boolean {
    return this.subjects.has(subject);
  }

  /** One version of a subject, soft-deleted or not. */
  version(subject: string, version: number): StoredVersion | undefined {
    return this.subjects.get(subject)?.get(version);
  }

  /** The highest version number a subject ever had (soft-deleted included), 0 when none. */
  maxVersion(subject: string): number {
    let max = 0;
    for (const v of this.subjects.get(subject)?.keys() ?? []) if (v > max) max = v;
    return max;
  }

  /** The schema with an id, from any subject that holds it. */
  byId(id: number): StoredVersion | undefined {
    for (const versions of this.subjects.values()) {
      for (const v of versions.values()) if (v.id === id) return v;
    }
    return undefined;
  }

  /** Every subject and version that holds a schema id. */
  usesOfId(id: number): { subject: string; version: number }[] {
    const uses: { subject: string; version: number }[] = [];
    for (const [subject, versions] of this.subjects) {
      for (const v of versions.values()) if (v.id === id) uses.push({ subject, version: v.version });
    }
    return uses.sort((a, b) =>
      a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.version - b.version,
    );
  }

  /** The id of a schema already registered anywhere with the same identity. */
  idOfCanonical(canonical: string): number | undefined {
    for (const versions of this.subjects.values()) {
      for (const v of versions.values()) if (v.canonical === canonical) return v.id;
    }
    return undefined;
  }

  /** The next free schema id. */
  nextId(): number {
    let max = 0;
    for (const versions of this.subjects.values())
      for (const v of versions.values()) if (v.id > max) max = v.id;
    return max + 1;
  }

  /** The parsed type of a stored schema (cached by its text). */
  typeOf(stored: StoredVersion): avro.Type {
    let type = this.types.get(stored.schema);
    if (type === undefined) {
      type = parseAvro(stored.schema);
      this.types.set(stored.schema, type);
    }
    return type;
  }
}
