import type avro from 'avsc';
import { type CompatibilityLevel, incompatibilities, isCompatibilityLevel } from './compatibility.js';
import { RegistryError, RegistryErrorCode, subjectNotFound, versionNotFound } from './errors.js';
import { encodeConfigValue, encodeKey, encodeSchemaValue } from './records.js';
import { canonicalOf, parseAvro, type RegistryState, type StoredVersion } from './state.js';

/** Where the registry's writes go; resolves once the state includes the record. */
export interface RegistryLog {
  append(key: Buffer, value: Buffer | null): Promise<void>;
}

/** A schema as a client submits it. */
export interface SchemaSubmission {
  schema?: unknown;
  schemaType?: unknown;
  references?: unknown;
}

/** A schema version as the API answers it. */
export interface VersionView {
  subject: string;
  version: number;
  id: number;
  schema: string;
  schemaType?: string;
}

function view(v: StoredVersion): VersionView {
  const out: VersionView = { subject: v.subject, version: v.version, id: v.id, schema: v.schema };
  if (v.schemaType !== undefined && v.schemaType !== 'AVRO') out.schemaType = v.schemaType;
  return out;
}

const MAX_VERSION = 2 ** 31 - 1;

/**
 * The registry's operations over its state and its log: reads answer from
 * the state; writes are checked against the state, appended to the log, and
 * answered once read back. Writes run one at a time, so ids and version
 * numbers given out by one registry never collide.
 */
export class Registry {
  private readonly state: RegistryState;
  private readonly log: RegistryLog;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(state: RegistryState, log: RegistryLog) {
    this.state = state;
    this.log = log;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Parses a submission; 42201 when it is not a valid Avro schema. */
  private parseSubmission(body: SchemaSubmission): { text: string; type: avro.Type } {
    if (body.schemaType !== undefined && body.schemaType !== null && body.schemaType !== 'AVRO') {
      throw new RegistryError(
        RegistryErrorCode.InvalidSchema,
        `Invalid schema: schema type ${String(body.schemaType)} is not supported, only AVRO`,
      );
    }
    if (Array.isArray(body.references) && body.references.length > 0) {
      throw new RegistryError(
        RegistryErrorCode.InvalidSchema,
        'Invalid schema: schema references are not supported',
      );
    }
    if (typeof body.schema !== 'string') {
      throw new RegistryError(
        RegistryErrorCode.InvalidSchema,
        'Invalid schema: the request has no "schema" string',
      );
    }
    try {
      return { text: body.schema, type: parseAvro(body.schema) };
    } catch (err) {
      throw new RegistryError(
        RegistryErrorCode.InvalidSchema,
        `Invalid schema ${body.schema}: ${(err as Error).message}`,
      );
    }
  }

  /** Registers a schema under a subject, or answers the version that already holds it. */
  register(subject: string, body: SchemaSubmission, normalize: boolean): Promise<VersionView> {
    return this.exclusive(async () => {
      const { text, type } = this.parseSubmission(body);
      const canonical = canonicalOf(text);
      const live = this.state.versions(subject);
      const same = live.find((v) => v.canonical === canonical);
      if (same !== undefined) return view(same);
      const level = this.state.effectiveCompatibility(subject);
      const reasons = incompatibilities(
        level,
        type,
        live.map((v) => ({ version: v.version, type: this.state.typeOf(v) })),
      );
      if (reasons.length > 0) {
        throw new RegistryError(
          RegistryErrorCode.Incompatible,
          `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: ${JSON.stringify(reasons)} (compatibility ${level})`,
        );
      }
      const id = this.state.idOfCanonical(canonical) ?? this.state.nextId();
      const version = this.state.maxVersion(subject) + 1;
      const schema = normalize ? JSON.stringify(type.schema({ exportAttrs: true })) : text;
      await this.log.append(
        encodeKey({ keytype: 'SCHEMA', subject, version }),
        encodeSchemaValue({ subject, version, id, schema, deleted: false }),
      );
      const stored = this.state.version(subject, version);
      if (stored === undefined) {
        throw new RegistryError(
          RegistryErrorCode.StoreError,
          `Version ${version} of ${subject} is not in the log after writing it`,
        );
      }
      return view(stored);
    });
  }

  /** Finds the version of a subject that holds a schema. */
  lookup(subject: string, body: SchemaSubmission, deleted: boolean): VersionView {
    const { text } = this.parseSubmission(body);
    if (!this.state.hasSubject(subject) || this.state.versions(subject, deleted).length === 0) {
      throw subjectNotFound(subject);
    }
    const canonical = canonicalOf(text);
    const found = this.state.versions(subject, deleted).find((v) => v.canonical === canonical);
    if (found === undefined) throw new RegistryError(RegistryErrorCode.SchemaNotFound, 'Schema not found');
    return view(found);
  }

  /** The schema with an id. */
  schemaById(id: number): { schema: string; schemaType?: string } {
    const found = this.state.byId(id);
    if (found === undefined)
      throw new RegistryError(RegistryErrorCode.SchemaNotFound, `Schema ${id} not found`);
    return found.schemaType !== undefined && found.schemaType !== 'AVRO'
      ? { schema: found.schema, schemaType: found.schemaType }
      : { schema: found.schema };
  }

  /** The subjects and versions that hold a schema id. */
  versionsOfId(id: number): { subject: string; version: number }[] {
    const uses = this.state.usesOfId(id);
    if (uses.length === 0)
      throw new RegistryError(RegistryErrorCode.SchemaNotFound, `Schema ${id} not found`);
    return uses;
  }

  subjects(deleted: boolean): string[] {
    return this.state.subjectNames(deleted);
  }

  /** Version numbers of a subject. */
  versionNumbers(subject: string, deleted: boolean): number[] {
    const versions = this.state.versions(subject, deleted);
    if (versions.length === 0) throw subjectNotFound(subject);
    return versions.map((v) => v.version);
  }

  /** One version of a subject; `latest` or -1 for the newest live one. */
  getVersion(subject: string, versionText: string, deleted: boolean): VersionView {
    return view(this.resolveVersion(subject, versionText, deleted));
  }

  private resolveVersion(subject: string, versionText: string, deleted: boolean): StoredVersion {
    const version = parseVersion(versionText);
    const versions = this.state.versions(subject, true);
    if (versions.length === 0) throw subjectNotFound(subject);
    if (version === 'latest') {
      const live = this.state.versions(subject, deleted);
      const latest = live[live.length - 1];
      if (latest === undefined) throw subjectNotFound(subject);
      return latest;
    }
    const found = this.state.version(subject, version);
    if (found === undefined || (found.deleted && !deleted)) throw versionNotFound(subject, version);
    return found;
  }

  /** Checks a schema against one version (or, with no version, every version the level names). */
  checkCompatibility(subject: string, versionText: string | undefined, body: SchemaSubmission): string[] {
    const { type } = this.parseSubmission(body);
    const level = this.state.effectiveCompatibility(subject);
    if (versionText === undefined) {
      const live = this.state.versions(subject);
      return incompatibilities(
        level,
        type,
        live.map((v) => ({ version: v.version, type: this.state.typeOf(v) })),
      );
    }
    const target = this.resolveVersion(subject, versionText, false);
    const single = level.replace('_TRANSITIVE', '') as CompatibilityLevel;
    return incompatibilities(single, type, [{ version: target.version, type: this.state.typeOf(target) }]);
  }

  /** Soft-deletes every live version of a subject, or removes soft-deleted ones for good. */
  deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.exclusive(async () => {
      const all = this.state.versions(subject, true);
      if (all.length === 0) throw subjectNotFound(subject);
      const live = all.filter((v) => !v.deleted);
      if (permanent) {
        if (live.length > 0) {
          throw new RegistryError(
            RegistryErrorCode.SubjectNotSoftDeleted,
            `Subject '${subject}' was not deleted first before being permanently deleted`,
          );
        }
        for (const v of all)
          await this.log.append(encodeKey({ keytype: 'SCHEMA', subject, version: v.version }), null);
        return all.map((v) => v.version);
      }
      if (live.length === 0) {
        throw new RegistryError(
          RegistryErrorCode.SubjectSoftDeleted,
          `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`,
        );
      }
      for (const v of live) {
        await this.log.append(
          encodeKey({ keytype: 'SCHEMA', subject, version: v.version }),
          encodeSchemaValue({ ...v, deleted: true }),
        );
      }
      return live.map((v) => v.version);
    });
  }

  /** Soft-deletes one version, or removes a soft-deleted one for good. */
  deleteVersion(subject: string, versionText: string, permanent: boolean): Promise<number> {
    return this.exclusive(async () => {
      const target = this.resolveVersion(subject, versionText, permanent);
      const key = encodeKey({ keytype: 'SCHEMA', subject, version: target.version });
      if (permanent) {
        if (!target.deleted) {
          throw new RegistryError(
            RegistryErrorCode.VersionNotSoftDeleted,
            `Subject '${subject}' Version ${target.version} was not deleted first before being permanently deleted`,
          );
        }
        await this.log.append(key, null);
      } else {
        await this.log.append(key, encodeSchemaValue({ ...target, deleted: true }));
      }
      return target.version;
    });
  }

  globalConfig(): { compatibilityLevel: CompatibilityLevel } {
    return { compatibilityLevel: this.state.globalCompatibility() };
  }

  subjectConfig(subject: string, defaultToGlobal: boolean): { compatibilityLevel: CompatibilityLevel } {
    const level = this.state.subjectCompatibility(subject);
    if (level !== undefined) return { compatibilityLevel: level };
    if (defaultToGlobal) return this.globalConfig();
    throw new RegistryError(
      RegistryErrorCode.SubjectConfigNotFound,
      `Subject '${subject}' does not have subject-level compatibility configured`,
    );
  }

  /** Sets the global level (subject null) or a subject's. */
  setConfig(subject: string | null, body: unknown): Promise<{ compatibility: CompatibilityLevel }> {
    return this.exclusive(async () => {
      const level =
        (body as { compatibility?: unknown; compatibilityLevel?: unknown } | null)?.compatibility ??
        (body as { compatibilityLevel?: unknown } | null)?.compatibilityLevel;
      if (!isCompatibilityLevel(level)) {
        throw new RegistryError(
          RegistryErrorCode.InvalidCompatibility,
          `Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive`,
        );
      }
      await this.log.append(
        encodeKey({ keytype: 'CONFIG', subject }),
        encodeConfigValue({ compatibilityLevel: level }),
      );
      return { compatibility: level };
    });
  }

  /** Removes a subject's own level, answering the one it had. */
  deleteConfig(subject: string): Promise<{ compatibilityLevel: CompatibilityLevel }> {
    return this.exclusive(async () => {
      const previous = this.subjectConfig(subject, false);
      await this.log.append(encodeKey({ keytype: 'CONFIG', subject }), null);
      return previous;
    });
  }
}

/** A version path segment: a number in [1, 2^31-1], `latest`, or -1 (latest). */
export function parseVersion(text: string): number | 'latest' {
  if (text === 'latest' || text === '-1') return 'latest';
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n) || n < 1 || n > MAX_VERSION) {
    throw new RegistryError(
      RegistryErrorCode.InvalidVersion,
      `The specified version '${text}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    );
  }
  return n;
}
