import { createLogClient, type LogAdmin, LogError, LogErrorCode } from '@promstream/log';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { type DeadLetterEvents, KafkaDeadLetterSink } from '../deadletter/kafka-sink.js';
import { deadLetterMetrics } from '../deadletter/metrics.js';
import type { DeadLetterSink } from '../deadletter/seams.js';
import type { RetryPolicy } from '../retry.js';
import { BuilderLoop } from './builder-loop.js';
import { blockBuilderMetrics } from './metrics.js';
import { BLOCK_BUILDER } from './rules.js';
import type { BlockSink, FaultPoints, PartitionStateStore, RecordDecoder } from './seams.js';

/** Options of the block builder. */
export interface BlockBuilderOptions {
  brokers: string[];
  /** The samples topic (`promstream.samples.v1`). */
  topic: string;
  /** Consumer group id; every builder of one deployment shares it. */
  groupId?: string;
  clientId?: string;
  /** Block duration in ms (default 2 hours). */
  blockDuration?: number;
  /** Out-of-order window in ms (default 10 minutes). */
  outOfOrderWindow?: number;
  /** How far past its record's timestamp a sample may be, ms (default 10 minutes). */
  futureGrace?: number;
  /** Log time a backfill range stays open after its last sample, ms (default the window, at least 1 minute). */
  backfillIdle?: number;
  decoder: RecordDecoder;
  sink: BlockSink;
  state: PartitionStateStore;
  logger: Logger;
  registry?: Registry;
  /** Called when the consumer stops for good after an error (it will not restart by itself). */
  onCrash?: (err: Error) => void;
  /**
   * Where records the builder gives up on go (default: the dead-letter topic
   * through the builder's own client, `deadLetterTopic`).
   */
  deadLetters?: DeadLetterSink;
  /** The dead-letter topic of the default sink (promstream.deadletter.v1). */
  deadLetterTopic?: string;
  /** Reports each dead letter on the events topic too (default sink only). */
  deadLetterEvents?: DeadLetterEvents;
  /** How records, uploads and commits are tried again. */
  retry?: RetryPolicy;
  /** Consumer-group session timeout, ms (default 15 s; brokers allow 6 s and up by default). */
  sessionTimeout?: number;
  /** Told at each fault point (seams.ts), for crash tests; absent in production. */
  faults?: FaultPoints;
  /** Injected clock (ms) and wait, for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** A running block builder. */
export interface BlockBuilder {
  /** The metrics registry the builder reports on. */
  readonly registry: Registry;
  /** What each partition's head holds right now, for status pages and tests. */
  status(): {
    partition: number;
    committed: number;
    lastRead: number;
    /** Live samples before this time are in written blocks (the last state saved). */
    boundary: number;
    /** The partition clock: the newest record timestamp read. */
    clock: number;
    headSamples: number;
  }[];
  /** Resolves once the builder has committed at least `offset` on `partition`. */
  waitForCommit(partition: number, offset: number, timeoutMs: number): Promise<void>;
  /** Stops consuming and leaves the group; uncommitted head data is rebuilt by the next builder. */
  stop(): Promise<void>;
}

/**
 * Starts the block builder: a consumer group on the samples topic that keeps
 * one head per assigned partition, cuts aligned ranges into blocks, uploads
 * them, records the partition's state beside them, and only then commits the
 * offsets. A crash anywhere restarts from the committed offset and rebuilds
 * the same blocks at the same place with the same bytes.
 */
export async function startBlockBuilder(options: BlockBuilderOptions): Promise<BlockBuilder> {
  const registry = options.registry ?? new Registry();
  const metrics = blockBuilderMetrics(registry);
  const client = createLogClient({
    clientId: options.clientId ?? 'promstream-block-builder',
    brokers: options.brokers,
    logger: options.logger,
  });
  const letterMetrics = deadLetterMetrics(registry);
  const defaultSink =
    options.deadLetters === undefined
      ? new KafkaDeadLetterSink({
          client,
          topic: options.deadLetterTopic,
          events: options.deadLetterEvents,
          onEventFailure: () => letterMetrics.events.inc({ processor: BLOCK_BUILDER }),
          logger: options.logger,
        })
      : undefined;
  let loop: BuilderLoop | undefined;
  const consumer = client.consumer({
    topic: options.topic,
    group: options.groupId ?? 'promstream-block-builder',
    // Short enough that a crashed builder's partitions move on soon; cuts heartbeat between uploads.
    sessionTimeoutMs: options.sessionTimeout ?? 15_000,
    rebalanceTimeoutMs: 60_000,
    maxWaitMs: 5000,
    // After a rebalance the consumer resumes from committed offsets: heads start over.
    onAssign: () => loop?.reset(),
    onRebalance: () => options.faults?.reached('rebalance', {}),
    onCrash: (error, restart) => {
      if (!restart) options.onCrash?.(error);
    },
  });
  const built = new BuilderLoop(
    options,
    consumer,
    metrics,
    letterMetrics,
    options.deadLetters ?? (defaultSink as DeadLetterSink),
  );
  loop = built;
  const stopped = new AbortController();
  const admin = client.admin();
  const begin = () => consumer.run((batch) => built.onBatch(batch));
  // Nothing to build before the first producer creates the topic: wait for it in the background.
  let running: Promise<void>;
  if (await topicExists(admin, options.topic)) {
    running = begin();
    await running;
  } else {
    options.logger.info({ topic: options.topic }, 'waiting for the topic to exist');
    running = waitForTopic(admin, options.topic, stopped.signal).then(async (exists) => {
      if (exists) await begin();
    });
    running.catch((err: unknown) => {
      options.logger.error({ err }, 'block builder did not start');
      options.onCrash?.(err as Error);
    });
  }
  return {
    registry,
    status: () => built.status(),
    waitForCommit: (partition, offset, timeoutMs) => built.waitForCommit(partition, offset, timeoutMs),
    stop: async () => {
      stopped.abort();
      await running.catch(() => {});
      await client.close();
    },
  };
}

async function topicExists(admin: LogAdmin, topic: string): Promise<boolean> {
  try {
    await admin.watermarks(topic);
    return true;
  } catch (err) {
    if (err instanceof LogError && err.code === LogErrorCode.TopicMissing) return false;
    throw err;
  }
}

/** Resolves true once the topic exists, polling every second; false when aborted first. */
export async function waitForTopic(admin: LogAdmin, topic: string, signal: AbortSignal): Promise<boolean> {
  while (!signal.aborted) {
    if (await topicExists(admin, topic).catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
}

export {
  BLOCK_BUILDER,
  DEFAULT_BLOCK_DURATION,
  DEFAULT_OUT_OF_ORDER_WINDOW,
  placementRules,
} from './rules.js';
