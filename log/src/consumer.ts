import { randomUUID } from 'node:crypto';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { KafkaLogAdmin } from './admin.js';
import type { ClientParts } from './client.js';
import { LogError, LogErrorCode, unavailable } from './errors.js';

/** A header as read: kafkajs hands a repeated key as an array. */
export type ReadHeaderValue = Buffer | string | (Buffer | string)[] | undefined;

/** One record as read from the log. */
export interface ConsumedRecord {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** The record time, ms. */
  timestamp: number;
  headers: Record<string, ReadHeaderValue>;
}

/** The records of one partition handed to a consumer's handler at once. */
export interface LogBatch {
  topic: string;
  partition: number;
  records: readonly ConsumedRecord[];
  /** The partition's high watermark when the batch was fetched. */
  highWatermark: number;
  /** The offset after the batch's last one, counting records compaction removed. */
  nextOffset: number;
  /** Tells the group this member is alive; call it between slow steps. */
  heartbeat(): Promise<void>;
  /** False once the batch is no longer this consumer's (it stopped, or a rebalance took the partition). */
  active(): boolean;
}

/**
 * Handles one batch. The next batch of the partition is fetched only after
 * the returned promise settles: a slow handler slows the reading (that is
 * the consumer's backpressure). A handler that throws has the batch
 * delivered again from the last committed offset (or the last `seek`).
 */
export type BatchHandler = (batch: LogBatch) => Promise<void>;

/** Options of a consumer of one topic. */
export interface LogConsumerOptions {
  topic: string;
  /**
   * A consumer group: its members share the partitions, each starts at the
   * group's committed offset (the log start when none is), and `commit`
   * records progress. Without a group the consumer reads every partition,
   * from `start`, and commits nothing.
   */
  group?: string;
  /**
   * Without a group: where each partition starts, given its watermarks
   * (default its low watermark). Return a block watermark, a stored
   * offset, or the high watermark to read only what comes next.
   */
  start?: (partition: number, low: number, high: number) => number | Promise<number>;
  /** How long the broker may hold a fetch that finds nothing new, ms (default 100). */
  maxWaitMs?: number;
  /** The most bytes one fetch returns per partition (default 1 MiB): the unit of backpressure. */
  maxBytesPerPartition?: number;
  /** Group only: how long a silent member stays in the group, ms (default 15 s). */
  sessionTimeoutMs?: number;
  /** Group only: how long a rebalance waits for members, ms (default 60 s). */
  rebalanceTimeoutMs?: number;
  /** Called each time the group gives this member its partitions again (the place to drop per-partition state). */
  onAssign?: () => void;
  /** Group only: called when a rebalance starts while this member holds partitions. */
  onRebalance?: () => void;
  /** Called when the consumer stops after an error; `restart` says whether it starts again by itself. */
  onCrash?: (err: Error, restart: boolean) => void;
}

/**
 * The read side of the log: one topic, batches of one partition at a
 * time, in offset order. Offsets are the consumer's to commit (never
 * automatic), so a processor commits only what it has made durable.
 */
export interface LogConsumer {
  /** Starts reading; resolves once the consumer runs (batches then arrive at `handler`). */
  run(handler: BatchHandler): Promise<void>;
  /** Group only: records that everything before `next` on `partition` is done. */
  commit(partition: number, next: number): Promise<void>;
  /** Reads `partition` from `offset` next (after a failure, or to skip ahead). */
  seek(partition: number, offset: number): void;
  /** Stops reading and leaves the group. */
  close(): Promise<void>;
}

/** A record as kafkajs hands it out, in the log package's shape. */
function consumed(m: KafkaMessage): ConsumedRecord {
  return {
    offset: Number(m.offset),
    key: m.key,
    value: m.value,
    timestamp: Number(m.timestamp),
    headers: m.headers ?? {},
  };
}

/** A LogConsumer on a kafkajs consumer (which always needs a group: a group-less one gets a fresh id). */
export class KafkaLogConsumer implements LogConsumer {
  private readonly consumer: Consumer;
  private readonly groupId: string;
  private running = false;
  private closed = false;

  constructor(
    private readonly parts: ClientParts,
    private readonly options: LogConsumerOptions,
  ) {
    this.groupId = options.group ?? `${parts.clientId}-${randomUUID()}`;
    this.consumer = parts.kafka.consumer({
      groupId: this.groupId,
      maxWaitTimeInMs: options.maxWaitMs ?? 100,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1 << 20,
      sessionTimeout: options.sessionTimeoutMs ?? 15_000,
      // A third of the session, as Kafka advises, so a short session still survives a slow batch.
      heartbeatInterval: Math.min(3000, Math.floor((options.sessionTimeoutMs ?? 15_000) / 3)),
      rebalanceTimeout: options.rebalanceTimeoutMs ?? 60_000,
      // The producers create the topic with its partition count; a consumer must not create it first.
      allowAutoTopicCreation: false,
    });
    const { GROUP_JOIN, CRASH, REBALANCING } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => options.onAssign?.());
    // kafkajs reports a rebalance only to a member that was consuming.
    this.consumer.on(REBALANCING, () => options.onRebalance?.());
    this.consumer.on(CRASH, (event) => {
      const { error, restart } = event.payload as { error: Error; restart: boolean };
      if (this.closed) return;
      parts.logger?.error({ err: error, restart, topic: options.topic }, 'log consumer crashed');
      options.onCrash?.(error, restart);
    });
    parts.open.add(this);
  }

  async run(handler: BatchHandler): Promise<void> {
    if (this.closed)
      throw new LogError(LogErrorCode.Closed, `the consumer of ${this.options.topic} is closed`);
    if (this.running) throw new LogError(LogErrorCode.BadOptions, 'a consumer runs once');
    const { topic } = this.options;
    const starts = this.options.group === undefined ? await this.starts() : undefined;
    this.running = true;
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topic, fromBeginning: true });
      await this.consumer.run({
        autoCommit: false,
        eachBatch: (payload) => handler(this.batch(payload)),
      });
    } catch (err) {
      throw unavailable(`read ${topic}`, err);
    }
    for (const [partition, offset] of starts ?? []) this.seek(partition, offset);
  }

  /** Where each partition starts without a group. */
  private async starts(): Promise<Map<number, number>> {
    const admin = new KafkaLogAdmin(this.parts);
    const { topic, start } = this.options;
    try {
      const out = new Map<number, number>();
      for (const { partition, low, high } of await admin.watermarks(topic))
        out.set(partition, Math.max(low, start === undefined ? low : await start(partition, low, high)));
      return out;
    } finally {
      await admin.close();
    }
  }

  /** Stops fetching a partition (a bounded read that has reached its end). */
  pause(partition: number): void {
    this.consumer.pause([{ topic: this.options.topic, partitions: [partition] }]);
  }

  private batch(payload: EachBatchPayload): LogBatch {
    const { batch, heartbeat, isRunning, isStale } = payload;
    return {
      topic: batch.topic,
      partition: batch.partition,
      records: batch.messages.map(consumed),
      highWatermark: Number(batch.highWatermark),
      nextOffset: Number(batch.lastOffset()) + 1,
      heartbeat,
      active: () => isRunning() && !isStale(),
    };
  }

  async commit(partition: number, next: number): Promise<void> {
    if (this.options.group === undefined)
      throw new LogError(LogErrorCode.BadOptions, 'a consumer without a group commits nothing');
    try {
      await this.consumer.commitOffsets([{ topic: this.options.topic, partition, offset: String(next) }]);
    } catch (err) {
      throw unavailable(`commit offset ${next} on partition ${partition} of ${this.options.topic}`, err);
    }
  }

  seek(partition: number, offset: number): void {
    this.consumer.seek({ topic: this.options.topic, partition, offset: String(offset) });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.parts.open.delete(this);
    this.parts.state.closing = true;
    await this.consumer.disconnect().catch(() => {});
    // A group of its own leaves nothing behind.
    if (this.options.group === undefined && this.running) await this.deleteGroup();
  }

  private async deleteGroup(): Promise<void> {
    const admin = this.parts.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.groupId]);
    } catch {
      // Best effort: an empty group expires by itself.
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}
