import { Counter, Gauge, type Registry } from 'prom-client';

/** The block builder's metrics, registered on the role's registry. */
export function blockBuilderMetrics(registry: Registry) {
  const registers = [registry];
  return {
    samples: new Counter({
      name: 'promstream_block_builder_samples_total',
      help: 'Samples read from the log into the head.',
      registers,
    }),
    dropped: new Counter({
      name: 'promstream_block_builder_samples_dropped_total',
      help: 'Late samples not written: too_old (behind the out-of-order window) or covered (range already in a block).',
      labelNames: ['reason'],
      registers,
    }),
    badRecords: new Counter({
      name: 'promstream_block_builder_bad_records_total',
      help: 'Log records that did not decode as a SampleBatch and were skipped.',
      registers,
    }),
    skippedHistograms: new Counter({
      name: 'promstream_block_builder_histograms_skipped_total',
      help: 'Native histogram samples not written to blocks (not supported yet).',
      registers,
    }),
    blocks: new Counter({
      name: 'promstream_block_builder_blocks_uploaded_total',
      help: 'Blocks written to the object store.',
      registers,
    }),
    blockSamples: new Counter({
      name: 'promstream_block_builder_block_samples_total',
      help: 'Samples written into uploaded blocks.',
      registers,
    }),
    committed: new Gauge({
      name: 'promstream_block_builder_committed_offset',
      help: 'The offset committed for each partition.',
      labelNames: ['partition'],
      registers,
    }),
    headSamples: new Gauge({
      name: 'promstream_block_builder_head_samples',
      help: 'Samples held in the head, not yet in a block.',
      labelNames: ['partition'],
      registers,
    }),
  };
}

export type BlockBuilderMetrics = ReturnType<typeof blockBuilderMetrics>;
