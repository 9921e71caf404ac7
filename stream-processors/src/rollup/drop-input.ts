import type { DecodedBatch, RecordDecoder } from '../block-builder/seams.js';
import { dropsInput, type RollupRule } from './config.js';

/**
 * `keep_input: false` on the storage side: a decoder for the block builder
 * that leaves out the series a rollup rule aggregates and does not keep. The
 * log keeps them (the rollups read them there); the blocks do not. Without
 * such a rule the decoder is returned as is.
 */
export function dropInputDecoder(decoder: RecordDecoder, rules: readonly RollupRule[]): RecordDecoder {
  const dropping = rules.filter((r) => !r.keepInput);
  if (dropping.length === 0) return decoder;
  return {
    async decode(value: Buffer): Promise<DecodedBatch> {
      const batch = await decoder.decode(value);
      const series = batch.series.filter((s) => !dropsInput(dropping, s.labels));
      return series.length === batch.series.length ? batch : { ...batch, series };
    },
  };
}
