import { readFailure } from '@promstream/schemas';
import type { Label } from '@promstream/storage';
import { decodeXorChunk, XorIterator } from '@promstream/storage';
import type { DecodedBatch, RecordDecoder } from '../block-builder/seams.js';
import { StreamError } from '../errors.js';

/** The parts of a `SampleBatch` value the decoder reads (the schemas package's type fits). */
export interface SampleBatchLike {
  tenant: string;
  series: {
    labels: Label[];
    encoding: string;
    chunk: Uint8Array;
    histograms?: unknown[];
  }[];
}

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
 * A record decoder for `promstream.samples.v1`: the Confluent wire format to
 * a SampleBatch through `deserialize`, then each XOR chunk to samples.
 * Histogram chunks are counted, not decoded: blocks hold floats for now.
 */
export function sampleBatchDecoder(deserialize: (value: Buffer) => Promise<SampleBatchLike>): RecordDecoder {
  const iterator = new XorIterator();
  return {
    async decode(value: Buffer): Promise<DecodedBatch> {
      let batch: SampleBatchLike;
      try {
        batch = await deserialize(value);
      } catch (err) {
        throw decodeError(err);
      }
      const out: DecodedBatch = { tenant: batch.tenant, series: [], skippedHistograms: 0 };
      for (const s of batch.series) {
        out.skippedHistograms += s.histograms?.length ?? 0;
        // A series with only histograms carries an empty float chunk.
        if (s.encoding !== 'XOR' || s.chunk.length === 0) continue;
        try {
          const { ts, vs } = decodeXorChunk(s.chunk, iterator);
          out.series.push({ labels: s.labels, t: ts, v: vs });
        } catch (err) {
          throw new StreamError('BAD_RECORD', 'decode the XOR chunk of a series', { cause: err });
        }
      }
      return out;
    },
  };
}
