import { decodeXorChunk, type Labels, XorIterator } from '@promstream/storage';
import { SchemaError, SchemaErrorCode } from './errors.js';
import type { SampleBatch } from './types.js';

/** A `SampleBatch` record's float samples, per series, as typed arrays. */
export interface DecodedSampleBatch {
  tenant: string;
  series: { labels: Labels; t: ArrayLike<number>; v: ArrayLike<number> }[];
  /** Histogram samples in the record; blocks and the head hold floats for now. */
  skippedHistograms: number;
}

/** Reads one record value (Confluent wire format) to its decoded floats. */
export type SampleBatchReader = (value: Buffer) => Promise<DecodedSampleBatch>;

/** The parts of a `SampleBatch` the reader uses (a deserializer's own type may be narrower). */
export interface SampleBatchLike {
  tenant: SampleBatch['tenant'];
  series: { labels: Labels; encoding: string; chunk: Uint8Array; histograms?: readonly unknown[] }[];
}

/**
 * The one decoding loop over `promstream.samples.v1` records: the value to
 * a SampleBatch through `deserialize` (whose errors pass unchanged, so
 * `readFailure` classifies them), then each XOR chunk to samples with one
 * reused iterator. A chunk that does not decode is a SCHEMA_INVALID_RECORD
 * (the record is bad, not the registry). The block builder, replay and the
 * query head read through it.
 */
export function sampleBatchReader(
  deserialize: (value: Buffer) => Promise<SampleBatchLike>,
): SampleBatchReader {
  const iterator = new XorIterator();
  return async (value) => {
    const batch = await deserialize(value);
    const out: DecodedSampleBatch = { tenant: batch.tenant, series: [], skippedHistograms: 0 };
    for (const s of batch.series) {
      out.skippedHistograms += s.histograms?.length ?? 0;
      // A series with only histograms carries an empty float chunk.
      if (s.encoding !== 'XOR' || s.chunk.length === 0) continue;
      try {
        const { ts, vs } = decodeXorChunk(s.chunk, iterator);
        out.series.push({ labels: s.labels, t: ts, v: vs });
      } catch (err) {
        throw new SchemaError(SchemaErrorCode.InvalidRecord, 'decode the XOR chunk of a series', {
          cause: err,
        });
      }
    }
    return out;
  };
}
