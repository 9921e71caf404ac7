import type avro from 'avsc';
import { type CompatibilityLevel, incompatibilities, isCompatibilityLevel } from './compatibility.js';
import { RegistryError, RegistryErrorCode, subjectNotFound, versionNotFound } from './errors.js';
import { isMode, isReadOnly, type Mode } from './mode.js';
import {
  encodeConfigValue,
  encodeIdHighWaterValue,
  encodeKey,
  encodeModeValue,
  encodeSchemaValue,
} from './records.js';
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

/** 42205, worded as Confluent's registry words it, with what to do for a protected subject. */
function notPermitted(subject: string, protectedSubject: boolean): RegistryError {
  return new RegistryError(
    RegistryErrorCode.OperationNotPermitted,
    protectedSubject
      ? `Subject ${subject} is in read-only mode: it is a subject of the pipeline, which only its own writers change (start the registry with --writable-pipeline-subjects to allow it)`
      : `Subject ${subject} is in read-only mode`,
  );
}

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
    this.modes = new ModeOperations(state, log, this.exclusive);
  }

  /** Runs writes one at a time (modes share the queue, so a mode change orders with registrations). */
  readonly exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  };

  /** The `/mode` operations on the same state, log and write queue. */
  readonly modes: ModeOperations;

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

  /** Refuses a change of a subject in a read-only mode (a protected subject is always read-only). */
  private checkWritable(subject: string): void {
    if (isReadOnly(this.state.effectiveMode(subject)))
      throw notPermitted(subject, this.state.isProtected(subject));
  }

  /**
   * Registers a schema under a subject, or answers the version that already
   * holds it. A subject in a read-only mode refuses (42205), except that a
   * protected subject takes its pipeline schema, or answers one it holds.
   */
  register(subject: string, body: SchemaSubmission, normalize: boolean): Promise<VersionView> {
    return this.exclusive(async () => {
      const { text, type } = this.parseSubmission(body);
      const canonical = canonicalOf(text);
      const live = this.state.versions(subject);
      const same = live.find((v) => v.canonical === canonical);
      if (isReadOnly(this.state.effectiveMode(subject))) {
        const isProtected = this.state.isProtected(subject);
        const ownWrite =
          isProtected && (same !== undefined || this.state.pipelineSchema(subject) === canonical);
        if (!ownWrite) throw notPermitted(subject, isProtected);
      }
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
      this.checkWritable(subject);
      const live = all.filter((v) => !v.deleted);
      if (permanent) {
        if (live.length > 0) {
          throw new RegistryError(
            RegistryErrorCode.SubjectNotSoftDeleted,
            `Subject '${subject}' was not deleted first before being permanently deleted`,
          );
        }
        await this.keepHighestId();
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
      this.checkWritable(subject);
      const key = encodeKey({ keytype: 'SCHEMA', subject, version: target.version });
      if (permanent) {
        if (!target.deleted) {
          throw new RegistryError(
            RegistryErrorCode.VersionNotSoftDeleted,
            `Subject '${subject}' Version ${target.version} was not deleted first before being permanently deleted`,
          );
        }
        await this.keepHighestId();
        await this.log.append(key, null);
      } else {
        await this.log.append(key, encodeSchemaValue({ ...target, deleted: true }));
      }
      return target.version;
    });
  }

  /**
   * Writes the highest id handed out before a permanent delete tombstones
   * the records holding ids: compaction removes those records in time, and
   * this one keeps the next id above every id ever handed out.
   */
  private async keepHighestId(): Promise<void> {
    await this.log.append(
      encodeKey({ keytype: 'ID_HIGH_WATER' }),
      encodeIdHighWaterValue({ maxId: this.state.highestId() }),
    );
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
      if (subject !== null && this.state.isProtected(subject)) throw notPermitted(subject, true);
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
      if (this.state.isProtected(subject)) throw notPermitted(subject, true);
      const previous = this.subjectConfig(subject, false);
      await this.log.append(encodeKey({ keytype: 'CONFIG', subject }), null);
      return previous;
    });
  }
}

/** 42204 for a mode this registry does not offer, in Confluent's words. */
function invalidMode(): RegistryError {
  return new RegistryError(
    RegistryErrorCode.InvalidMode,
    'Invalid mode. Valid values are READWRITE, READONLY and READONLY_OVERRIDE (IMPORT is not offered by this registry)',
  );
}

/** The modes of Confluent's REST API (`/mode`), over the same registry. */
export class ModeOperations {
  constructor(
    private readonly state: RegistryState,
    private readonly log: RegistryLog,
    private readonly exclusive: <T>(work: () => Promise<T>) => Promise<T>,
  ) {}

  /** The global mode. */
  global(): { mode: Mode } {
    return { mode: this.state.globalMode() };
  }

  /** A subject's own mode; 40409 when it has none, unless the global one is asked for. */
  subject(subject: string, defaultToGlobal: boolean): { mode: Mode } {
    const mode = this.state.subjectMode(subject);
    if (mode !== undefined) return { mode };
    if (defaultToGlobal) return this.global();
    throw new RegistryError(
      RegistryErrorCode.SubjectModeNotFound,
      `Subject '${subject}' does not have subject-level mode configured`,
    );
  }

  /** Sets the global mode (subject null) or a subject's; answers the request as Confluent does. */
  set(subject: string | null, body: unknown): Promise<{ mode: Mode }> {
    return this.exclusive(async () => {
      const raw = (body as { mode?: unknown } | null)?.mode;
      const mode = typeof raw === 'string' ? raw.toUpperCase() : raw;
      if (!isMode(mode)) throw invalidMode();
      if (subject !== null && this.state.isProtected(subject)) throw notPermitted(subject, true);
      await this.log.append(encodeKey({ keytype: 'MODE', subject }), encodeModeValue({ mode }));
      return { mode };
    });
  }

  /** Removes a subject's own mode, answering the one it had; 40401 when it had none. */
  delete(subject: string): Promise<{ mode: Mode }> {
    return this.exclusive(async () => {
      if (this.state.isProtected(subject)) throw notPermitted(subject, true);
      const mode = this.state.subjectMode(subject);
      if (mode === undefined) throw subjectNotFound(subject);
      await this.log.append(encodeKey({ keytype: 'MODE', subject }), null);
      return { mode };
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
