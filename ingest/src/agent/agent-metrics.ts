import { Counter, Gauge, type Registry } from 'prom-client';
import type { DiskBuffer } from './buffer/disk-buffer.js';

/** The agent's own metrics, registered on its registry. */
export type AgentMetrics = ReturnType<typeof agentMetrics>;

/** Registers the agent's metrics: collectors, the disk buffer, sending and what was observed. */
export function agentMetrics(registry: Registry, buffer: DiskBuffer) {
  return {
    collectorSuccess: new Gauge({
      name: 'node_scrape_collector_success',
      help: 'Whether a collector succeeded.',
      labelNames: ['collector'],
      registers: [registry],
    }),
    collectorDuration: new Gauge({
      name: 'node_scrape_collector_duration_seconds',
      help: 'Duration of a collector scrape.',
      labelNames: ['collector'],
      registers: [registry],
    }),
    bufferBytes: new Gauge({
      name: 'promstream_agent_buffer_bytes',
      help: 'Bytes in the disk buffer.',
      registers: [registry],
      collect() {
        this.set(buffer.bytes());
      },
    }),
    bufferDropped: new Gauge({
      name: 'promstream_agent_buffer_dropped_entries_total',
      help: 'Entries dropped, oldest first, because the disk buffer was full.',
      registers: [registry],
      collect() {
        this.set(buffer.dropped);
      },
    }),
    sentEntries: new Counter({
      name: 'promstream_agent_sent_entries_total',
      help: 'Buffered entries acknowledged by the log, by kind.',
      labelNames: ['kind'],
      registers: [registry],
    }),
    sendFailures: new Counter({
      name: 'promstream_agent_send_failures_total',
      help: 'Attempts to send the buffer that the log did not acknowledge.',
      registers: [registry],
    }),
    invalid: new Counter({
      name: 'promstream_agent_invalid_series_total',
      help: 'Collected series dropped because they break the label rules the gateway enforces.',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'promstream_agent_rejected_entries_total',
      help: 'Buffered entries the log side refused for good (not an outage), dropped so the buffer moves on.',
      labelNames: ['kind'],
      registers: [registry],
    }),
    samples: new Counter({
      name: 'promstream_agent_samples_collected_total',
      help: 'Samples collected.',
      registers: [registry],
    }),
    events: new Counter({
      name: 'promstream_agent_events_total',
      help: 'Events observed, by kind.',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}
