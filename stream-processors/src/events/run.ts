import { createLogClient } from '@promstream/log';
import { createSerdes, TOPICS } from '@promstream/schemas';
import { objectStoreFromUrl, type S3Settings } from '@promstream/storage';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { KafkaDeadLetterSink } from '../deadletter/kafka-sink.js';
import { eventDecoder } from './decoder.js';
import { LogDerivedCounterSink } from './derived-sink.js';
import { type EventStore, startEventStore } from './event-store.js';
import { applyEventRetention } from './retention.js';
import type { EventFaultPoints } from './seams.js';
import { ObjectEventStateStore } from './state-store.js';

/** What the event-store role is given. */
export interface RunEventStoreOptions {
  brokers: string[];
  registryUrl: string;
  /** Object store URL (file://, mem://, s3://). */
  storeUrl: string;
  s3?: S3Settings;
  /** The events topic (default promstream.events.v1). */
  topic?: string;
  groupId: string;
  /** Where `promstream_events_total` goes (default promstream.derived.v1); empty: no counters. */
  derivedTopic?: string;
  /** Where records that are not events go (default promstream.deadletter.v1). */
  deadLetterTopic?: string;
  defaultTenant: string;
  maxSegmentBytes: number;
  maxSegmentAge: number;
  /** Segments older than this are deleted, ms; 0 keeps them forever. */
  retention: number;
  /** How often retention runs, ms (default an hour). */
  retentionInterval?: number;
  sessionTimeout?: number;
  logger: Logger;
  registry?: Registry;
  onCrash?: (err: Error) => void;
  faults?: EventFaultPoints;
}

/** Starts the event store against real Kafka, the registry and a bucket, with retention on a timer. */
export async function runEventStore(options: RunEventStoreOptions): Promise<EventStore> {
  const topic = options.topic ?? TOPICS.events;
  const serdes = createSerdes({ registryUrl: options.registryUrl });
  const store = objectStoreFromUrl(options.storeUrl, options.s3);
  const client = createLogClient({
    clientId: 'promstream-event-store-out',
    brokers: options.brokers,
    logger: options.logger,
  });
  const derivedTopic = options.derivedTopic ?? TOPICS.derived;
  const derived =
    derivedTopic === ''
      ? undefined
      : new LogDerivedCounterSink(
          client.producer({ producers: 1, ensureTopics: [{ topic: derivedTopic, partitions: 4 }] }),
          serdes.sampleBatch,
          derivedTopic,
        );
  const running = await startEventStore({
    brokers: options.brokers,
    topic,
    groupId: options.groupId,
    decoder: eventDecoder((v) => serdes.event.deserialize(topic, v)),
    store,
    state: new ObjectEventStateStore(store),
    // Dead letters of the events topic are not reported as events: that would feed the topic they came from.
    deadLetters: new KafkaDeadLetterSink({ client, topic: options.deadLetterTopic, logger: options.logger }),
    derived,
    defaultTenant: options.defaultTenant,
    maxSegmentBytes: options.maxSegmentBytes,
    maxSegmentAge: options.maxSegmentAge,
    sessionTimeout: options.sessionTimeout,
    logger: options.logger,
    registry: options.registry,
    onCrash: options.onCrash,
    faults: options.faults,
  });
  const sweep = () =>
    applyEventRetention(store, Date.now(), options.retention).then(
      (n) => {
        if (n > 0) options.logger.info({ deleted: n }, 'event segments past retention deleted');
      },
      (err: unknown) => options.logger.warn({ err }, 'apply event retention'),
    );
  const timer = setInterval(sweep, options.retentionInterval ?? 3_600_000);
  void sweep();
  return {
    registry: running.registry,
    commits: () => running.commits(),
    stop: async () => {
      clearInterval(timer);
      await running.stop();
      await client.close();
    },
  };
}
