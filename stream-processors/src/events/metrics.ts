import { Counter, Gauge, type Registry } from 'prom-client';

/** The event store's metrics, registered on the role's registry. */
export function eventStoreMetrics(registry: Registry) {
  const registers = [registry];
  return {
    events: new Counter({
      name: 'promstream_event_store_events_total',
      help: 'Events read from the log into segments.',
      registers,
    }),
    truncated: new Counter({
      name: 'promstream_event_store_events_truncated_total',
      help: 'Events stored cut to the limits (a message or attribute map too large).',
      registers,
    }),
    deadLettered: new Counter({
      name: 'promstream_event_store_records_dead_lettered_total',
      help: 'Records of the events topic given up on (not an Event, or a tenant the tenant-ID rule refuses).',
      labelNames: ['reason'],
      registers,
    }),
    segments: new Counter({
      name: 'promstream_event_store_segments_uploaded_total',
      help: 'Parquet segments written to the object store.',
      registers,
    }),
    segmentBytes: new Counter({
      name: 'promstream_event_store_segment_bytes_total',
      help: 'Bytes of the Parquet segments written.',
      registers,
    }),
    adopted: new Counter({
      name: 'promstream_event_store_pending_cuts_total',
      help: 'Cuts a restart found pending: adopted (every file there) or redone.',
      labelNames: ['outcome'],
      registers,
    }),
    committed: new Gauge({
      name: 'promstream_event_store_committed_offset',
      help: 'The offset committed per partition.',
      labelNames: ['partition'],
      registers,
    }),
    deleted: new Counter({
      name: 'promstream_event_store_segments_deleted_total',
      help: 'Segments removed by retention.',
      registers,
    }),
  };
}

/** The metrics of one event store. */
export type EventStoreMetrics = ReturnType<typeof eventStoreMetrics>;
