import { Counter, Gauge, type Registry } from 'prom-client';

/** The rollup processor's metrics, registered on the role's registry. */
export function rollupMetrics(registry: Registry) {
  const registers = [registry];
  return {
    samples: new Counter({
      name: 'promstream_rollups_samples_total',
      help: 'Samples read from the samples topic by the aggregate stage.',
      registers,
    }),
    late: new Counter({
      name: 'promstream_rollups_samples_late_total',
      help: 'Sample and rule pairs not aggregated because their window had closed (past the allowed lateness).',
      registers,
    }),
    badRecords: new Counter({
      name: 'promstream_rollups_bad_records_total',
      help: 'Records skipped because they do not decode (the block builder dead-letters the samples ones).',
      labelNames: ['stage'],
      registers,
    }),
    repeats: new Counter({
      name: 'promstream_rollups_partial_repeats_total',
      help: 'Partial records read again after a restart of the aggregate stage, ignored.',
      registers,
    }),
    outputs: new Counter({
      name: 'promstream_rollups_output_samples_total',
      help: 'Aggregate samples written to the derived topic (repeats after a restart included).',
      registers,
    }),
    snapshots: new Counter({
      name: 'promstream_rollups_snapshots_total',
      help: 'Stage snapshots saved to the object store.',
      labelNames: ['stage'],
      registers,
    }),
    committed: new Gauge({
      name: 'promstream_rollups_committed_offset',
      help: 'The offset committed for each stage and partition.',
      labelNames: ['stage', 'partition'],
      registers,
    }),
  };
}

/** The metrics a rollup processor reports. */
export type RollupMetrics = ReturnType<typeof rollupMetrics>;
