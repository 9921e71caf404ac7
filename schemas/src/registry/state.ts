import avro from 'avsc';
import type { CompatibilityLevel } from './compatibility.js';
import { incompatibilities, isCompatibilityLevel } from './compatibility.js';
import { isMode, type Mode } from './mode.js';
import {
  type ConfigValue,
  decodeConfigValue,
  decodeIdHighWaterValue,
  decodeKey,
  decodeModeValue,
  decodeSchemaValue,
  type RegistryKey,
  type SchemaKey,
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

/** The largest schema id: ids are 4 bytes in the wire format, signed in Confluent's clients. */
export const MAX_SCHEMA_ID = 2 ** 31 - 1;

/** What applying one record did. */
export interface ApplyOutcome {
  /** The record does not parse; it is counted and passed over. */
  skipped?: Error;
  /**
   * The record parses but would reuse a schema id or change a protected
   * subject; it is not applied, and the reason is logged. Such a record can
   * only come from another client writing `_schemas` directly.
   */
  ignored?: string;
}

/**
 * The registry's state, built only by applying the records of `_schemas` in
 * order. Writes go to the log first and reach this state when read back, so
 * every registry instance on the same topic converges on the same state.
 *
 * Schema ids are never reused: every id a record ever bound stays bound to
 * its schema for the life of the state (a permanent delete removes the
 * version, not the binding), the highest id ever seen is kept (and read back
 * from ID_HIGH_WATER records, which outlive the compaction of deleted
 * versions), and new ids are handed out above it. A record that would bind
 * a known id to another schema is ignored; once the topic has been read to
 * its end at start (`caughtUp`), so is one that brings an id at or below the
 * highest with no known schema (during the first read such a record may be
 * what compaction left of an older binding).
 */
export class RegistryState {
  private readonly subjects = new Map<string, Map<number, StoredVersion>>();
  private readonly types = new Map<string, avro.Type>();
  private globalLevel: CompatibilityLevel | undefined;
  private readonly subjectLevels = new Map<string, CompatibilityLevel>();
  private globalModeValue: Mode | undefined;
  private readonly subjectModes = new Map<string, Mode>();
  /** Every id bound by an applied record, to the identity of its schema. */
  private readonly ids = new Map<number, string>();
  private highWater = 0;
  private live = false;
  private readonly protectedSubjects: ReadonlyMap<string, string>;
  /** Records applied, skipped as unreadable, and ignored as refused. */
  applied = 0;
  skipped = 0;
  ignored = 0;

  /** `protectedSubjects`: subjects whose records are checked as protection.ts describes. */
  constructor(protectedSubjects: ReadonlyMap<string, string> = new Map()) {
    this.protectedSubjects = protectedSubjects;
  }

  /** Marks the end of the first read of the topic: from now on records are checked as live writes. */
  caughtUp(): void {
    this.live = true;
  }

  /** Applies one record; see ApplyOutcome. */
  apply(keyBytes: Buffer | null, valueBytes: Buffer | null): ApplyOutcome {
    if (keyBytes === null) {
      this.skipped++;
      return { skipped: new Error('record without a key') };
    }
    let ignored: string | undefined;
    try {
      const key: RegistryKey = decodeKey(keyBytes);
      switch (key.keytype) {
        case 'SCHEMA':
          ignored = this.applySchema(key, valueBytes);
          break;
        case 'CONFIG':
          ignored = this.applyConfig(key.subject, valueBytes === null ? null : decodeConfigValue(valueBytes));
          break;
        case 'MODE':
          ignored = this.applyMode(key.subject, valueBytes);
          break;
        case 'ID_HIGH_WATER':
          ignored = this.applyHighWater(valueBytes);
          break;
        case 'OTHER':
          break;
      }
    } catch (err) {
      this.skipped++;
      return { skipped: err as Error };
    }
    if (ignored !== undefined) {
      this.ignored++;
      return { ignored };
    }
    this.applied++;
    return {};
  }

  private applySchema(key: SchemaKey, valueBytes: Buffer | null): string | undefined {
    const { subject, version } = key;
    if (valueBytes === null) {
      if (this.protectedSubjects.has(subject))
        return `a permanent delete of version ${version} of the protected subject ${subject}`;
      const versions = this.subjects.get(subject);
      versions?.delete(version);
      if (versions !== undefined && versions.size === 0) this.subjects.delete(subject);
      return undefined;
    }
    const value = decodeSchemaValue(valueBytes);
    if (value.subject !== subject || value.version !== version)
      return `a value for version ${value.version} of ${value.subject} under the key of version ${version} of ${subject}`;
    if (value.id < 1 || value.id > MAX_SCHEMA_ID) return `schema id ${value.id} is out of range`;
    const canonical = canonicalOf(value.schema);
    const bound = this.ids.get(value.id);
    if (bound !== undefined && bound !== canonical)
      return `schema id ${value.id} for version ${version} of ${subject}: the id belongs to another schema`;
    if (bound === undefined && value.id <= this.highWater && this.live)
      return `schema id ${value.id} for version ${version} of ${subject}: the id was handed out before (the highest is ${this.highWater}) and is not reused`;
    if (this.protectedSubjects.has(subject)) {
      const refused = this.protectedChange(subject, value, canonical);
      if (refused !== undefined) return refused;
    }
    let versions = this.subjects.get(subject);
    if (versions === undefined) {
      versions = new Map();
      this.subjects.set(subject, versions);
    }
    versions.set(version, { ...value, canonical });
    this.ids.set(value.id, canonical);
    if (value.id > this.highWater) this.highWater = value.id;
    return undefined;
  }

  /**
   * Why a schema record would change a protected subject in a way the
   * pipeline never does, or undefined when it is a registration the
   * pipeline could have made: a new live version that can read the latest
   * one (BACKWARD, so the pipeline's readers keep reading old records), or
   * a version written again as it is.
   */
  private protectedChange(subject: string, value: SchemaValue, canonical: string): string | undefined {
    const what = `version ${value.version} of the protected subject ${subject}`;
    if (value.deleted) return `a soft delete of ${what}`;
    const existing = this.version(subject, value.version);
    if (existing !== undefined)
      return existing.canonical === canonical && existing.id === value.id
        ? undefined
        : `a rewrite of ${what}`;
    const live = this.versions(subject);
    const latest = live[live.length - 1];
    if (latest === undefined) return undefined;
    const reasons = incompatibilities('BACKWARD', parseAvro(value.schema), [
      { version: latest.version, type: this.typeOf(latest) },
    ]);
    return reasons.length === 0
      ? undefined
      : `${what}, which cannot read version ${latest.version}: ${reasons[0]}`;
  }

  private applyConfig(subject: string | null, value: ConfigValue | null): string | undefined {
    if (subject !== null && this.protectedSubjects.has(subject))
      return `a compatibility change of the protected subject ${subject}`;
    const level =
      value !== null && isCompatibilityLevel(value.compatibilityLevel) ? value.compatibilityLevel : undefined;
    if (subject === null) this.globalLevel = level;
    else if (level === undefined) this.subjectLevels.delete(subject);
    else this.subjectLevels.set(subject, level);
    return undefined;
  }

  private applyMode(subject: string | null, valueBytes: Buffer | null): string | undefined {
    if (subject !== null && this.protectedSubjects.has(subject))
      return `a mode change of the protected subject ${subject}`;
    const mode = valueBytes === null ? undefined : decodeModeValue(valueBytes).mode;
    if (mode !== undefined && !isMode(mode)) return `mode ${mode} is not one this registry offers`;
    if (subject === null) this.globalModeValue = mode;
    else if (mode === undefined) this.subjectModes.delete(subject);
    else this.subjectModes.set(subject, mode);
    return undefined;
  }

  private applyHighWater(valueBytes: Buffer | null): string | undefined {
    // Never lowered: a tombstone or a smaller value changes nothing.
    if (valueBytes === null) return undefined;
    const { maxId } = decodeIdHighWaterValue(valueBytes);
    if (maxId > MAX_SCHEMA_ID) return `id high-water ${maxId} is out of range`;
    if (maxId > this.highWater) this.highWater = maxId;
    return undefined;
  }

  /** Whether a subject is protected. */
  isProtected(subject: string): boolean {
    return this.protectedSubjects.has(subject);
  }

  /** The identity of the schema the pipeline writes under a protected subject. */
  pipelineSchema(subject: string): string | undefined {
    return this.protectedSubjects.get(subject);
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

  /** The global mode, READWRITE when none was set. */
  globalMode(): Mode {
    return this.globalModeValue ?? 'READWRITE';
  }

  /** The mode set on a subject itself (READONLY for a protected subject), if any. */
  subjectMode(subject: string): Mode | undefined {
    if (this.protectedSubjects.has(subject)) return 'READONLY';
    return this.subjectModes.get(subject);
  }

  /** The mode that applies to a subject: a global READONLY_OVERRIDE wins over the subject's own. */
  effectiveMode(subject: string): Mode {
    const global = this.globalMode();
    if (global === 'READONLY_OVERRIDE') return global;
    return this.subjectMode(subject) ?? global;
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

  /**
   * The id of a schema already registered anywhere with the same identity,
   * or once registered and deleted since: the same schema gets its id back.
   */
  idOfCanonical(canonical: string): number | undefined {
    for (const versions of this.subjects.values()) {
      for (const v of versions.values()) if (v.canonical === canonical) return v.id;
    }
    for (const [id, bound] of this.ids) if (bound === canonical) return id;
    return undefined;
  }

  /** The highest schema id ever handed out, deleted ones included (0 when none). */
  highestId(): number {
    return this.highWater;
  }

  /** The next free schema id: above every id ever handed out. */
  nextId(): number {
    return this.highWater + 1;
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
