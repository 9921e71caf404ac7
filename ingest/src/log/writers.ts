import { createLogClient, type LogClient, type LogProducer } from '@promstream/log';
import { createSerdes, type Serdes, TOPICS } from '@promstream/schemas';
import type { Logger } from 'pino';
import { sampleBatchCodec } from './codec.js';
import { LogEventSink } from './event-sink.js';
import { LogSampleSink } from './sample-sink.js';

/** Options of the log writers. */
export interface LogWritersOptions {
  brokers: string[];
  /** Schema registry URL; ignored when `serdes` is given. */
  registryUrl?: string;
  serdes?: Pick<Serdes, 'sampleBatch' | 'event'>;
  logger?: Logger;
  clientId?: string;
  /** Partitions for the topics when this process creates them. */
  samplePartitions?: number;
  eventPartitions?: number;
  samplesTopic?: string;
  eventsTopic?: string;
  /** Idempotent producers sending side by side (the LogProducer's option). */
  producers?: number;
  /** Marks every samples record as backfill, naming the tool (imports onto the log). */
  backfill?: string;
}

/** The producer and the sinks the gateway and the agent write through. */
export interface LogWriters {
  /** The client the producer was made with: closing it closes the producer. */
  client: LogClient;
  producer: LogProducer;
  samples: LogSampleSink;
  /** The same samples topic, every record marked as backfill (`agent-buffer`): for samples sent late. */
  backfillSamples: LogSampleSink;
  events: LogEventSink;
}

/**
 * Builds the Kafka producer and the sample and event sinks over it, creating
 * the topics when they are missing.
 */
export function createLogWriters(options: LogWritersOptions): LogWriters {
  const serdes = options.serdes ?? createSerdes({ registryUrl: requireUrl(options.registryUrl) });
  const samplesTopic = options.samplesTopic ?? TOPICS.samples;
  const eventsTopic = options.eventsTopic ?? TOPICS.events;
  const client = createLogClient({
    brokers: options.brokers,
    clientId: options.clientId ?? 'promstream-ingest',
    logger: options.logger,
    // A write fails with log_unavailable after this, so callers can answer 503 rather than hang.
    retries: 3,
  });
  const producer = client.producer({
    producers: options.producers,
    ensureTopics: [
      { topic: samplesTopic, partitions: options.samplePartitions ?? 8 },
      { topic: eventsTopic, partitions: options.eventPartitions ?? 4 },
    ],
  });
  return {
    client,
    producer,
    samples: new LogSampleSink({
      producer,
      codec: sampleBatchCodec(serdes.sampleBatch),
      topic: samplesTopic,
      backfill: options.backfill,
    }),
    backfillSamples: new LogSampleSink({
      producer,
      codec: sampleBatchCodec(serdes.sampleBatch),
      topic: samplesTopic,
      backfill: 'agent-buffer',
    }),
    events: new LogEventSink(producer, serdes.event, eventsTopic),
  };
}

function requireUrl(url: string | undefined): string {
  if (url === undefined || url === '') throw new Error('a schema registry URL is required (registryUrl)');
  return url;
}
