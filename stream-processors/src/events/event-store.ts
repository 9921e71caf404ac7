import { createLogClient } from '@promstream/log';
import type { EventLimits, ObjectStore } from '@promstream/storage';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { waitForTopic } from '../block-builder/builder.js';
import type { DeadLetterSink } from '../deadletter/seams.js';
import type { RetryPolicy } from '../retry.js';
import type { DerivedCounterSink } from './derived.js';
import { eventStoreMetrics } from './metrics.js';
import type { EventDecoder, EventFaultPoints, EventStateStore } from './seams.js';
import { EventStoreLoop } from './store-loop.js';

/** Options of the event store. */
export interface EventStoreOptions {
  brokers: string[];
  /** The events topic (`promstream.events.v1`). */
  topic: string;
  /** Consumer group id; every event store of one deployment shares it. */
  groupId?: string;
  clientId?: string;
  decoder: EventDecoder;
  /** The bucket segments go to (keys `events/<tenant>/date=…/hour=…/…`). */
  store: Pick<ObjectStore, 'put' | 'head' | 'delete'>;
  state: EventStateStore;
  /** Where records that are not events go. */
  deadLetters: DeadLetterSink;
  /** Where `promstream_events_total` goes after each cut; none: no counters. */
  derived?: DerivedCounterSink;
  /** The tenant of events without a `tenant` attribute (default `anonymous`). */
  defaultTenant?: string;
  /** A partition's buffer is cut once it holds this many bytes (default 8 MiB). */
  maxSegmentBytes?: number;
  /** ... or once its first record was read this long ago, ms (default 30 s). */
  maxSegmentAge?: number;
  /** How often buffers are checked for age, ms (default a fifth of the age, at most 1 s). */
  ageCheckInterval?: number;
  limits?: EventLimits;
  retry?: RetryPolicy;
  logger: Logger;
  registry?: Registry;
  /** Consumer-group session timeout, ms (default 15 s). */
  sessionTimeout?: number;
  /** Called when the consumer stops for good after an error. */
  onCrash?: (err: Error) => void;
  /** Told at each fault point (seams.ts), for crash tests; absent in production. */
  faults?: EventFaultPoints;
  /** Injected clock, ms. */
  now?: () => number;
}

/** A running event store. */
export interface EventStore {
  readonly registry: Registry;
  /** The offset committed per partition so far. */
  commits(): Map<number, number>;
  /** Stops consuming and leaves the group; what was not cut is read again by the next store. */
  stop(): Promise<void>;
}

/**
 * Starts the event store: a consumer group on the events topic that cuts
 * each partition's events into Parquet segments in the bucket, saves the
 * partition state beside them, and only then commits (README).
 */
export async function startEventStore(options: EventStoreOptions): Promise<EventStore> {
  const registry = options.registry ?? new Registry();
  const metrics = eventStoreMetrics(registry);
  const client = createLogClient({
    clientId: options.clientId ?? 'promstream-event-store',
    brokers: options.brokers,
    logger: options.logger,
  });
  let loop: EventStoreLoop | undefined;
  const consumer = client.consumer({
    topic: options.topic,
    group: options.groupId ?? 'promstream-event-store',
    sessionTimeoutMs: options.sessionTimeout ?? 15_000,
    rebalanceTimeoutMs: 60_000,
    maxWaitMs: 500,
    onAssign: () => loop?.reset(),
    onCrash: (error, restart) => {
      if (!restart) options.onCrash?.(error);
    },
  });
  const built = new EventStoreLoop(options, consumer, metrics);
  loop = built;
  const stopped = new AbortController();
  const maxAge = options.maxSegmentAge ?? 30_000;
  const timer = setInterval(
    () => {
      built.cutAged().catch((err: unknown) => options.logger.warn({ err }, 'cut aged event buffers'));
    },
    options.ageCheckInterval ?? Math.min(1000, Math.max(10, Math.floor(maxAge / 5))),
  );
  const admin = client.admin();
  const running = waitForTopic(admin, options.topic, stopped.signal).then(async (exists) => {
    if (exists) await consumer.run((batch) => built.onBatch(batch));
  });
  running.catch((err: unknown) => {
    options.logger.error({ err }, 'event store did not start');
    options.onCrash?.(err as Error);
  });
  return {
    registry,
    commits: () => built.commits(),
    stop: async () => {
      clearInterval(timer);
      stopped.abort();
      await running.catch(() => {});
      await client.close();
    },
  };
}
