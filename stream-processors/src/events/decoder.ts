import type { Event } from '@promstream/schemas';
import { readFailure } from '@promstream/schemas';
import { StreamError } from '../errors.js';
import type { EventDecoder } from './seams.js';

/** An event decoder on the schemas package's Event serde, its failures as the stream processors' errors. */
export function eventDecoder(deserialize: (value: Buffer) => Promise<Event>): EventDecoder {
  const codes = {
    registry_unavailable: 'DECODE_UNAVAILABLE',
    schema_unknown_id: 'SCHEMA_UNKNOWN_ID',
    schema_mismatch: 'SCHEMA_MISMATCH',
    bad_record: 'BAD_RECORD',
  } as const;
  return {
    async decode(value) {
      try {
        return await deserialize(value);
      } catch (err) {
        const message = `decode an Event record: ${(err as Error)?.message ?? String(err)}`;
        throw new StreamError(codes[readFailure(err).reason], message, { cause: err });
      }
    },
  };
}
