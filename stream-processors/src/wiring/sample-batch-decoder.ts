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
        // A registry that does not answer is not a bad record: the caller must retry, not skip it.
        if ((err as { retryable?: unknown }).retryable === true)
          throw new StreamError('DECODE_UNAVAILABLE', 'decode a SampleBatch record', { cause: err });
        throw new StreamError('BAD_RECORD', 'decode a SampleBatch record', { cause: err });
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
