import { Counter, Gauge, type Registry } from 'prom-client';

/** The compactor's metrics, registered on the role's registry. */
export function compactorMetrics(registry: Registry) {
  const registers = [registry];
  return {
    runs: new Counter({
      name: 'promstream_compactor_runs_total',
      help: 'Compactor passes over the bucket, by result (done, no_lease, error).',
      labelNames: ['result'],
      registers,
    }),
    leaseHeld: new Gauge({
      name: 'promstream_compactor_lease_held',
      help: '1 while this compactor holds the bucket lease.',
      registers,
    }),
    compactions: new Counter({
      name: 'promstream_compactor_compactions_total',
      help: 'Blocks written by compaction, by kind (horizontal: adjacent blocks, vertical: overlapping blocks).',
      labelNames: ['kind'],
      registers,
    }),
    compactedSamples: new Counter({
      name: 'promstream_compactor_compacted_samples_total',
      help: 'Samples read from source blocks by compactions.',
      registers,
    }),
    duplicateSamples: new Counter({
      name: 'promstream_compactor_duplicate_samples_total',
      help: 'Samples dropped by vertical compaction as duplicates of another source at the same time.',
      registers,
    }),
    downsamples: new Counter({
      name: 'promstream_compactor_downsamples_total',
      help: 'Blocks written by downsampling, by target resolution (5m, 1h).',
      labelNames: ['resolution'],
      registers,
    }),
    downsampledSamples: new Counter({
      name: 'promstream_compactor_downsampled_samples_total',
      help: 'Samples read from blocks by downsampling.',
      registers,
    }),
    markedForDeletion: new Counter({
      name: 'promstream_compactor_blocks_marked_for_deletion_total',
      help: 'Blocks marked for deletion, by reason (compacted, superseded, retention).',
      labelNames: ['reason'],
      registers,
    }),
    deleted: new Counter({
      name: 'promstream_compactor_blocks_deleted_total',
      help: 'Blocks deleted after their deletion delay.',
      registers,
    }),
    partialDeleted: new Counter({
      name: 'promstream_compactor_partial_uploads_deleted_total',
      help: 'Partial uploads (block directories without meta.json) deleted after their delay.',
      registers,
    }),
    noCompact: new Counter({
      name: 'promstream_compactor_blocks_marked_no_compact_total',
      help: 'Blocks the compactor marked no-compact because they did not read, by error code.',
      labelNames: ['code'],
      registers,
    }),
    failures: new Counter({
      name: 'promstream_compactor_failures_total',
      help: 'Compactions or downsamplings that failed and were left for the next pass, by error code.',
      labelNames: ['code'],
      registers,
    }),
  };
}

export type CompactorMetrics = ReturnType<typeof compactorMetrics>;
