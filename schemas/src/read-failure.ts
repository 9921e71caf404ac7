import { SchemaErrorCode } from './errors.js';

/** What a failure to read a record means for the processor that reads it. */
export interface ReadFailure {
  /**
   * The stable reason (the dead-letter reason of docs/dead-letter.md):
   * `registry_unavailable`, `schema_unknown_id`, `schema_mismatch` or `bad_record`.
   */
  reason: 'registry_unavailable' | 'schema_unknown_id' | 'schema_mismatch' | 'bad_record';
  /** The cause passes by itself (the registry does not answer): wait and read the same record again. */
  retryable: boolean;
  /** The verdict depends on the registry's answer: read it again a bounded number of times first. */
  recheck: boolean;
}

/**
 * Classifies an error of `RecordSerde.deserialize`, so every processor
 * treats the same failure the same way: a registry that does not answer is
 * waited out (never the record's fault); a schema id the registry does not
 * have, or a schema that does not fit the record, is checked again a few
 * times and then final; bytes that are not the wire format are final at once.
 */
export function readFailure(err: unknown): ReadFailure {
  const code = (err as { code?: unknown } | undefined)?.code;
  if ((err as { retryable?: unknown } | undefined)?.retryable === true)
    return { reason: 'registry_unavailable', retryable: true, recheck: false };
  if (code === SchemaErrorCode.UnknownSchemaId)
    return { reason: 'schema_unknown_id', retryable: false, recheck: true };
  if (code === SchemaErrorCode.Unresolvable || code === SchemaErrorCode.BodyMismatch)
    return { reason: 'schema_mismatch', retryable: false, recheck: true };
  return { reason: 'bad_record', retryable: false, recheck: false };
}
