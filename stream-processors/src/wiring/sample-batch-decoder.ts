import { readFailure, type SampleBatchLike, sampleBatchReader } from '@promstream/schemas';
import type { DecodedBatch, RecordDecoder } from '../block-builder/seams.js';
import { StreamError } from '../errors.js';

export type { SampleBatchLike };

/** A failed deserialization as the stream processors' error, classified by the schemas package's `readFailure`. */
export function decodeError(err: unknown): StreamError {
  const message = `decode a SampleBatch record: ${(err as Error)?.message ?? String(err)}`;
  const code = {
    registry_unavailable: 'DECODE_UNAVAILABLE',
    schema_unknown_id: 'SCHEMA_UNKNOWN_ID',
    schema_mismatch: 'SCHEMA_MISMATCH',
    bad_record: 'BAD_RECORD',
  } as const;
  return new StreamError(code[readFailure(err).reason], message, { cause: err });
}

/**
 * A record decoder for `promstream.samples.v1` on the schemas package's
 * one SampleBatch reader (the query head reads through the same), its
 * failures as the stream processors' errors. Histogram chunks are counted,
 * not decoded: blocks hold floats for now.
 */
export function sampleBatchDecoder(deserialize: (value: Buffer) => Promise<SampleBatchLike>): RecordDecoder {
  const read = sampleBatchReader(deserialize);
  return {
    async decode(value: Buffer): Promise<DecodedBatch> {
      try {
        return await read(value);
      } catch (err) {
        throw decodeError(err);
      }
    },
  };
}
