/** Stable codes of the schemas package; callers branch on these, never on messages. */
export const SchemaErrorCode = {
  /** A value does not fit its schema. */
  InvalidRecord: 'SCHEMA_INVALID_RECORD',
  /** A buffer is not in the Confluent wire format (magic 0, 4-byte id, body). */
  BadWireFormat: 'SCHEMA_BAD_WIRE_FORMAT',
  /** The writer's schema cannot be resolved to the reader's. */
  Unresolvable: 'SCHEMA_UNRESOLVABLE',
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
