import { Counter, type Registry } from 'prom-client';

/** The dead-letter counters of a processor, registered on its registry. */
export function deadLetterMetrics(registry: Registry) {
  const registers = [registry];
  return {
    records: new Counter({
      name: 'promstream_deadletter_records_total',
      help: 'Records written to the dead-letter topic, by processor and reason.',
      labelNames: ['processor', 'reason'],
      registers,
    }),
    samples: new Counter({
      name: 'promstream_deadletter_samples_total',
      help: 'Samples that could not be placed, by processor and reason (their records are dead-lettered).',
      labelNames: ['processor', 'reason'],
      registers,
    }),
    retries: new Counter({
      name: 'promstream_processor_retries_total',
      help: 'Waits before trying a record or an upload again, by processor and error code.',
      labelNames: ['processor', 'code'],
      registers,
    }),
    events: new Counter({
      name: 'promstream_deadletter_events_failed_total',
      help: 'Dead-letter events that could not be written to the events topic (the dead letters themselves were).',
      labelNames: ['processor'],
      registers,
    }),
  };
}

/** The dead-letter counters. */
export type DeadLetterMetrics = ReturnType<typeof deadLetterMetrics>;
