import type { Admin } from 'kafkajs';
import type { ClientParts } from './client.js';
import { LogError, LogErrorCode, unavailable } from './errors.js';

/** A topic to create when missing. */
export interface TopicSpec {
  topic: string;
  partitions: number;
  /** A compacted topic (cleanup.policy=compact), as `_schemas` is. */
  compacted?: boolean;
  /** Replicas (default: as many brokers as there are, at most 3). */
  replicationFactor?: number;
}

/** The offsets of one partition: its first record and the offset after its last. */
export interface Watermarks {
  partition: number;
  low: number;
  high: number;
}

/** What the roles ask of the log besides reading and writing it. */
export interface LogAdmin {
  /** Creates the topics that are missing; another creator winning the race is fine. */
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  /** Each partition's low and high watermark, by partition; LOG_TOPIC_MISSING when there is no such topic. */
  watermarks(topic: string): Promise<Watermarks[]>;
  /** Per partition, the first offset whose record time is at or after `time` (the high watermark when none is). */
  offsetsAt(topic: string, time: number): Promise<Map<number, number>>;
  close(): Promise<void>;
}

/** Creates the missing topics through a connected kafkajs admin. */
export async function ensureTopics(admin: Admin, wanted: readonly TopicSpec[]): Promise<void> {
  if (wanted.length === 0) return;
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return;
  const brokers = (await admin.describeCluster()).brokers.length;
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor ?? Math.max(1, Math.min(3, brokers)),
        ...(t.compacted ? { configEntries: [{ name: 'cleanup.policy', value: 'compact' }] } : {}),
      })),
    });
  } catch (err) {
    // Another process may have created them between the listing and here.
    const now = new Set(await admin.listTopics());
    if (missing.some((t) => !now.has(t.topic))) throw err;
  }
}

/** A LogAdmin on a kafkajs admin that connects on first use. */
export class KafkaLogAdmin implements LogAdmin {
  private readonly admin: Admin;
  private connecting: Promise<void> | undefined;

  constructor(private readonly parts: ClientParts) {
    this.admin = parts.kafka.admin();
    parts.open.add(this);
  }

  private connect(): Promise<void> {
    this.connecting ??= this.admin.connect().catch((err) => {
      this.connecting = undefined;
      throw unavailable('connect to the log', err);
    });
    return this.connecting;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    await this.connect();
    try {
      await ensureTopics(this.admin, topics);
    } catch (err) {
      throw unavailable(`create topics ${topics.map((t) => t.topic).join(', ')}`, err);
    }
  }

  async watermarks(topic: string): Promise<Watermarks[]> {
    await this.connect();
    let offsets: { partition: number; low: string; high: string }[];
    try {
      offsets = await this.admin.fetchTopicOffsets(topic);
    } catch (err) {
      if ((err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION' || !(await this.exists(topic)))
        throw new LogError(LogErrorCode.TopicMissing, `topic ${topic} does not exist`, { cause: err });
      throw unavailable(`read the offsets of ${topic}`, err);
    }
    return offsets
      .map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  async offsetsAt(topic: string, time: number): Promise<Map<number, number>> {
    const bounds = await this.watermarks(topic);
    let found: { partition: number; offset: string }[];
    try {
      found = await this.admin.fetchTopicOffsetsByTimestamp(topic, time);
    } catch (err) {
      throw unavailable(`read the offsets of ${topic} at ${new Date(time).toISOString()}`, err);
    }
    const out = new Map<number, number>();
    for (const b of bounds) out.set(b.partition, b.high);
    // A time past the last record answers -1: the end of the partition.
    for (const o of found) if (Number(o.offset) >= 0) out.set(o.partition, Number(o.offset));
    return out;
  }

  private async exists(topic: string): Promise<boolean> {
    try {
      return (await this.admin.listTopics()).includes(topic);
    } catch {
      return true;
    }
  }

  async close(): Promise<void> {
    this.parts.open.delete(this);
    if (this.connecting === undefined) return;
    this.connecting = undefined;
    await this.admin.disconnect().catch(() => {});
  }
}
