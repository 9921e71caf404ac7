import kafkajs, { type Admin, type Producer } from 'kafkajs';
import { ensureTopics, type TopicSpec } from './admin.js';
import type { ClientParts } from './client.js';
import { LogError, LogErrorCode, unavailable } from './errors.js';

/** A record header value: one value or several under one key. */
export type LogHeaderValue = Buffer | string | (Buffer | string)[];

/** One record for the log. */
export interface LogRecord {
  key: Buffer | null;
  value: Buffer | null;
  /** Explicit partition; when absent the producer's partitioner picks one from the key. */
  partition?: number;
  /** Record headers (the backfill mark of schemas/docs/dead-letter.md). */
  headers?: Record<string, LogHeaderValue>;
  /** The record timestamp, ms; absent means the time of the write (ingest time). */
  timestamp?: number;
}

/**
 * The write side of the log: a send resolves only once every record is
 * acknowledged by all in-sync replicas, and rejects with LOG_UNAVAILABLE
 * otherwise, so callers acknowledge their own clients only after the log did.
 */
export interface LogProducer {
  send(topic: string, records: readonly LogRecord[]): Promise<void>;
  /** The number of partitions of a topic (cached), so callers can place series. */
  partitions(topic: string): Promise<number>;
  close(): Promise<void>;
}

/** Options of a producer. */
export interface LogProducerOptions {
  /** Topics to create when missing, on first connect. */
  ensureTopics?: TopicSpec[];
  /**
   * Idempotent producers sending side by side (default 3), each with one
   * request in flight: while one waits for the log's acknowledgement the
   * other carries the sends that arrived meanwhile.
   */
  producers?: number;
  /** zstd batches (default) or none, for records already compressed. */
  compression?: 'zstd' | 'none';
}

interface Pending {
  topic: string;
  records: readonly LogRecord[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * A LogProducer on kafkajs: idempotent (so retries do not duplicate), acks
 * from all in-sync replicas, zstd batch compression. It connects lazily, so
 * a gateway can start while the log is down and answer 503 until it is back.
 */
export class KafkaLogProducer implements LogProducer {
  private readonly producers: Producer[];
  private readonly admin: Admin;
  private connecting: Promise<void> | undefined;
  private readonly partitionCounts = new Map<string, number>();
  private readonly queue: Pending[] = [];
  /** Producers with no send out: each idempotent producer keeps one request in flight. */
  private idle: Producer[] = [];
  private readonly compression: kafkajs.CompressionTypes;

  constructor(
    private readonly parts: ClientParts,
    private readonly options: LogProducerOptions,
  ) {
    const count = options.producers ?? 3;
    if (!Number.isInteger(count) || count < 1)
      throw new LogError(LogErrorCode.BadOptions, `producers must be a positive integer, got ${count}`);
    this.compression =
      options.compression === 'none' ? kafkajs.CompressionTypes.None : kafkajs.CompressionTypes.ZSTD;
    this.producers = Array.from({ length: count }, () =>
      parts.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // Records without a partition go where Kafka's default (murmur2 of the key) puts them.
        createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
      }),
    );
    this.idle = [...this.producers];
    this.admin = parts.kafka.admin();
    parts.open.add(this);
  }

  private connect(): Promise<void> {
    if (this.connecting === undefined) {
      this.connecting = (async () => {
        await Promise.all(this.producers.map((p) => p.connect()));
        await this.admin.connect();
        await ensureTopics(this.admin, this.options.ensureTopics ?? []);
      })().catch((err) => {
        this.connecting = undefined;
        throw unavailable('connect to the log', err);
      });
    }
    return this.connecting;
  }

  async partitions(topic: string): Promise<number> {
    const known = this.partitionCounts.get(topic);
    if (known !== undefined) return known;
    await this.connect();
    try {
      const meta = await this.admin.fetchTopicMetadata({ topics: [topic] });
      const n = meta.topics[0]?.partitions.length ?? 0;
      if (n === 0) throw new Error(`topic ${topic} has no partitions`);
      this.partitionCounts.set(topic, n);
      return n;
    } catch (err) {
      throw unavailable(`read the metadata of topic ${topic}`, err);
    }
  }

  async send(topic: string, records: readonly LogRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.connect();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, records, resolve, reject });
      const producer = this.idle.pop();
      if (producer !== undefined) void this.drain(producer);
    });
  }

  // Group commit: an idempotent kafkajs producer keeps one request in
  // flight per broker (it holds a lock per broker until the answer, so its
  // sequence numbers stay right), so sends that arrive while every producer
  // has one out wait and then go together in one produce request on the
  // first producer free.
  // Each caller hears back only after the log acknowledged its records.
  //
  // Order: all records of one send go in one request of one producer, in
  // order. Two sends can only overtake each other while both are waiting,
  // that is when neither caller has been answered; a sender that waits for
  // its answer before sending the next records of a key (as remote-write
  // senders do per shard) finds them on the log in its order.
  private async drain(producer: Producer): Promise<void> {
    while (this.queue.length > 0) {
      const pending = this.queue.splice(0, this.queue.length);
      const byTopic = new Map<string, LogRecord[]>();
      for (const p of pending) {
        let list = byTopic.get(p.topic);
        if (list === undefined) byTopic.set(p.topic, (list = []));
        for (const r of p.records) list.push(r);
      }
      try {
        await producer.sendBatch({
          acks: -1,
          compression: this.compression,
          topicMessages: [...byTopic].map(([topic, records]) => ({
            topic,
            messages: records.map((r) => ({
              key: r.key,
              value: r.value,
              partition: r.partition,
              ...(r.headers === undefined ? {} : { headers: r.headers }),
              ...(r.timestamp === undefined ? {} : { timestamp: String(r.timestamp) }),
            })),
          })),
        });
        for (const p of pending) p.resolve();
      } catch (err) {
        for (const p of pending)
          p.reject(unavailable(`write ${p.records.length} records to ${p.topic}`, err));
      }
    }
    this.idle.push(producer);
  }

  async close(): Promise<void> {
    this.parts.open.delete(this);
    // The process is stopping: a broker that goes away now is expected (logging.ts).
    this.parts.state.closing = true;
    const wasConnected = this.connecting !== undefined;
    this.connecting = undefined;
    if (!wasConnected) return;
    await Promise.allSettled([...this.producers.map((p) => p.disconnect()), this.admin.disconnect()]);
  }
}
