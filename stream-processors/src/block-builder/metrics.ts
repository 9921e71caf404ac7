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
      help: 'Samples not placed in a block: too_old (their live range is cut) and too_far_future (past the grace period) are dead-lettered with their record; covered ones were read again after a restart and are in a block or the dead-letter topic already.',
      labelNames: ['reason'],
      registers,
    }),
    skippedHistograms: new Counter({
      name: 'promstream_block_builder_histograms_skipped_total',
      help: 'Native histogram samples not written to blocks (not supported yet).',
      registers,
    }),
    blocks: new Counter({
      name: 'promstream_block_builder_blocks_uploaded_total',
      help: 'Blocks written to the object store, live or backfill.',
      labelNames: ['kind'],
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
