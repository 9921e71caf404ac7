/**
 * The registry's errors, in the codes of Confluent's REST API so that
 * `@confluentinc/schemaregistry` and other clients branch on them as they
 * would against Confluent's server. The HTTP status is the first three
 * digits of the code (409 is its own code).
 */
export const RegistryErrorCode = {
  SubjectNotFound: 40401,
  VersionNotFound: 40402,
  SchemaNotFound: 40403,
  SubjectSoftDeleted: 40404,
  SubjectNotSoftDeleted: 40405,
  VersionSoftDeleted: 40406,
  VersionNotSoftDeleted: 40407,
  SubjectConfigNotFound: 40408,
  SubjectModeNotFound: 40409,
  NotFound: 404,
  Incompatible: 409,
  BadRequest: 400,
  InvalidSchema: 42201,
  InvalidVersion: 42202,
  InvalidCompatibility: 42203,
  InvalidMode: 42204,
  OperationNotPermitted: 42205,
  StoreError: 50001,
  Timeout: 50002,
} as const;
export type RegistryErrorCode = (typeof RegistryErrorCode)[keyof typeof RegistryErrorCode];

/** A registry error answered as `{"error_code": code, "message": message}`. */
export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  /** Whether the client may retry (store and timeout errors). */
  readonly retryable: boolean;

  constructor(code: RegistryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
    this.code = code;
    this.retryable = code >= 50000;
  }

  /** The HTTP status of this error. */
  get status(): number {
    return this.code < 1000 ? this.code : Math.floor(this.code / 100);
  }

  /** The body Confluent's server sends. */
  toJSON(): { error_code: number; message: string } {
    return { error_code: this.code, message: this.message };
  }
}

/** Subject not found. */
export function subjectNotFound(subject: string): RegistryError {
  return new RegistryError(RegistryErrorCode.SubjectNotFound, `Subject '${subject}' not found.`);
}

/** Version not found. */
export function versionNotFound(subject: string, version: number | string): RegistryError {
  return new RegistryError(
    RegistryErrorCode.VersionNotFound,
    `Version ${version} not found for subject '${subject}'.`,
  );
}
