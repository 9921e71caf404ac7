/** Stable codes of the schemas package; callers branch on these, never on messages. */
export const SchemaErrorCode = {
  /** A value does not fit its schema. */
  InvalidRecord: 'SCHEMA_INVALID_RECORD',
  /** A buffer is not in the Confluent wire format (magic 0, 4-byte id, body). */
  BadWireFormat: 'SCHEMA_BAD_WIRE_FORMAT',
  /**
   * The writer's schema cannot be resolved to the reader's. The cached
   * resolution is dropped, so reading again asks the registry again.
   */
  Unresolvable: 'SCHEMA_UNRESOLVABLE',
  /** The registry has no schema with the record's id (HTTP 404). */
  UnknownSchemaId: 'SCHEMA_UNKNOWN_ID',
  /**
   * The body does not decode with the schema its id resolved to: a wrong
   * schema under that id, or a corrupt body. The cached resolution is
   * dropped, so reading again asks the registry again.
   */
  BodyMismatch: 'SCHEMA_BODY_MISMATCH',
  /** The registry could not be reached or answered with an error. */
  Registry: 'SCHEMA_REGISTRY',
  /** The registry's log (the `_schemas` topic) could not be read or written. */
  RegistryLog: 'SCHEMA_REGISTRY_LOG',
  /** A record on `_schemas` does not parse. */
  RegistryRecord: 'SCHEMA_REGISTRY_RECORD',
} as const;
export type SchemaErrorCode = (typeof SchemaErrorCode)[keyof typeof SchemaErrorCode];

const retryable: ReadonlySet<SchemaErrorCode> = new Set([
  SchemaErrorCode.Registry,
  SchemaErrorCode.RegistryLog,
]);

/** An error of the schemas package with a stable code and whether retrying can help. */
export class SchemaError extends Error {
  readonly code: SchemaErrorCode;
  readonly retryable: boolean;

  constructor(code: SchemaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SchemaError';
    this.code = code;
    this.retryable = retryable.has(code);
  }
}
