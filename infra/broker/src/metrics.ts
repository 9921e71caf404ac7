import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The broker's Prometheus metrics, on a registry of its own. */
export interface BrokerMetrics {
  registry: Registry;
  requests: Counter<'api' | 'version'>;
  requestSeconds: Histogram<'api'>;
  connections: Gauge;
  producedBytes: Counter;
  producedRecords: Counter;
  fetchedBytes: Counter;
  corruptBatches: Counter;
  badFrames: Counter;
  storageRefusals: Counter;
  timestampRefusals: Counter;
}

export function createMetrics(): BrokerMetrics {
  const registry = new Registry();
  return {
    registry,
    requests: new Counter({
      name: 'promstream_broker_requests_total',
      help: 'Requests handled, by API name and version.',
      labelNames: ['api', 'version'],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'promstream_broker_request_duration_seconds',
      help: 'Time from request decode to response, by API name.',
      labelNames: ['api'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    connections: new Gauge({
      name: 'promstream_broker_connections',
      help: 'Open client connections.',
      registers: [registry],
    }),
    producedBytes: new Counter({
      name: 'promstream_broker_produced_bytes_total',
      help: 'Record batch bytes appended.',
      registers: [registry],
    }),
    producedRecords: new Counter({
      name: 'promstream_broker_produced_records_total',
      help: 'Records appended.',
      registers: [registry],
    }),
    fetchedBytes: new Counter({
      name: 'promstream_broker_fetched_bytes_total',
      help: 'Record batch bytes served to fetches.',
      registers: [registry],
    }),
    corruptBatches: new Counter({
      name: 'promstream_broker_corrupt_batches_total',
      help: 'Produced batches rejected by the header or CRC check.',
      registers: [registry],
    }),
    storageRefusals: new Counter({
      name: 'promstream_broker_storage_refusals_total',
      help: 'Partition appends refused with KAFKA_STORAGE_ERROR because the log failed a write and has not recovered yet.',
      registers: [registry],
    }),
    timestampRefusals: new Counter({
      name: 'promstream_broker_timestamp_refusals_total',
      help: 'Produced batches refused with INVALID_TIMESTAMP: a record stamped further ahead than message.timestamp.after.max.ms.',
      registers: [registry],
    }),
    badFrames: new Counter({
      name: 'promstream_broker_bad_frames_total',
      help: 'Connections closed for a malformed, oversized or unsupported request.',
      registers: [registry],
    }),
  };
}
