import fs from 'node:fs';
import path from 'node:path';
import { KafkaCode } from '../errors.js';
import type { DurabilityProbe } from './durability-probe.js';
import { type LogConfig, PartitionLog } from './partition-log.js';

/** Topic configs the broker knows, with Kafka's defaults. Values are strings as on the wire. */
export const TOPIC_CONFIG_DEFAULTS: Readonly<Record<string, string>> = {
  'cleanup.policy': 'delete',
  'retention.ms': '604800000',
  'retention.bytes': '-1',
  'segment.bytes': '1073741824',
  'segment.ms': '604800000',
  'max.message.bytes': '1048588',
  'min.insync.replicas': '1',
  'compression.type': 'producer',
  'message.timestamp.type': 'CreateTime',
  // Kafka's default since 3.6: a CreateTime record more than an hour ahead of the broker's clock is refused.
  'message.timestamp.after.max.ms': '3600000',
  'min.cleanable.dirty.ratio': '0.5',
  'delete.retention.ms': '86400000',
};

/** One topic: its partitions and the configs set on it (defaults are not stored). */
export interface Topic {
  name: string;
  id: string;
  configs: Record<string, string>;
  partitions: PartitionLog[];
}

const LEGAL_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Kafka's rule for topic names; '.' and '..' are not allowed either. */
export function validTopicName(name: string): boolean {
  return LEGAL_NAME.test(name) && name !== '.' && name !== '..';
}

function numberConfig(configs: Record<string, string>, key: string): number {
  const v = configs[key] ?? TOPIC_CONFIG_DEFAULTS[key] ?? '-1';
  return Number(v);
}

/** The log settings of a topic from its configs. */
export function logConfigOf(configs: Record<string, string>): LogConfig {
  return {
    segmentBytes: numberConfig(configs, 'segment.bytes'),
    segmentMs: numberConfig(configs, 'segment.ms'),
    retentionMs: numberConfig(configs, 'retention.ms'),
    retentionBytes: numberConfig(configs, 'retention.bytes'),
  };
}

/** Checks one config value; returns an error message or null. */
export function checkConfig(key: string, value: string | null): string | null {
  if (!(key in TOPIC_CONFIG_DEFAULTS)) return `unknown topic config ${key}`;
  if (value === null) return `config ${key} needs a value`;
  if (key === 'cleanup.policy') {
    const parts = value.split(',').map((s) => s.trim());
    return parts.every((p) => p === 'delete' || p === 'compact')
      ? null
      : `cleanup.policy ${value}: not delete or compact`;
  }
  if (key === 'compression.type') return null;
  if (key === 'message.timestamp.type') {
    // The broker keeps the producer's timestamps; it never rewrites them to append time.
    return value === 'CreateTime' ? null : `message.timestamp.type ${value}: only CreateTime is supported`;
  }
  if (!/^-?\d+(\.\d+)?$/.test(value)) return `config ${key}=${value}: not a number`;
  // Index positions are 32-bit, and Kafka bounds segment.bytes the same way.
  if (key === 'segment.bytes' && (Number(value) < 14 || Number(value) > 2147483647)) {
    return `segment.bytes=${value}: must be between 14 and 2147483647`;
  }
  return null;
}

interface StoredTopics {
  topics: Array<{ name: string; id: string; partitions: number; configs: Record<string, string> }>;
}

/**
 * The topics of the broker and their partition logs. Topic metadata lives in
 * `topics.json` in the data directory, replaced atomically (write, fsync,
 * rename); partition data lives in `<topic>-<partition>/`.
 */
export class TopicStore {
  readonly topics = new Map<string, Topic>();
  private readonly file: string;

  constructor(
    readonly dataDir: string,
    private readonly now: () => number,
    private readonly probe?: DurabilityProbe,
  ) {
    fs.mkdirSync(dataDir, { recursive: true });
    this.file = path.join(dataDir, 'topics.json');
  }

  /** Loads every topic and opens its partitions (scanning the active segments). */
  load(): void {
    if (!fs.existsSync(this.file)) return;
    const stored = JSON.parse(fs.readFileSync(this.file, 'utf8')) as StoredTopics;
    for (const t of stored.topics) {
      const topic: Topic = { name: t.name, id: t.id, configs: t.configs, partitions: [] };
      const config = logConfigOf(t.configs);
      for (let p = 0; p < t.partitions; p++) {
        topic.partitions.push(PartitionLog.open(this.partitionDir(t.name, p), config, this.now, this.probe));
      }
      this.topics.set(t.name, topic);
    }
  }

  private partitionDir(topic: string, partition: number): string {
    return path.join(this.dataDir, `${topic}-${partition}`);
  }

  private save(): void {
    const stored: StoredTopics = {
      topics: [...this.topics.values()].map((t) => ({
        name: t.name,
        id: t.id,
        partitions: t.partitions.length,
        configs: t.configs,
      })),
    };
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(stored, null, 1));
    const fd = fs.openSync(tmp, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.file);
    const dfd = fs.openSync(this.dataDir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  }

  /** Creates a topic; returns a Kafka error code and message. */
  create(
    name: string,
    partitions: number,
    configs: Record<string, string>,
    validateOnly = false,
  ): { code: number; message: string | null } {
    if (!validTopicName(name))
      return { code: KafkaCode.INVALID_TOPIC_EXCEPTION, message: `topic name ${name} is not legal` };
    if (this.topics.has(name))
      return { code: KafkaCode.TOPIC_ALREADY_EXISTS, message: `topic ${name} already exists` };
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 10_000) {
      return {
        code: KafkaCode.INVALID_PARTITIONS,
        message: `partition count ${partitions} must be between 1 and 10000`,
      };
    }
    for (const [k, v] of Object.entries(configs)) {
      const bad = checkConfig(k, v);
      if (bad) return { code: KafkaCode.INVALID_CONFIG, message: bad };
    }
    if (validateOnly) return { code: KafkaCode.NONE, message: null };
    const topic: Topic = { name, id: randomUuid(), configs, partitions: [] };
    const config = logConfigOf(configs);
    for (let p = 0; p < partitions; p++) {
      const dir = this.partitionDir(name, p);
      fs.rmSync(dir, { recursive: true, force: true });
      topic.partitions.push(PartitionLog.open(dir, config, this.now, this.probe));
    }
    this.topics.set(name, topic);
    this.save();
    return { code: KafkaCode.NONE, message: null };
  }

  /** Adds partitions to a topic. */
  addPartitions(
    name: string,
    count: number,
    validateOnly: boolean,
  ): { code: number; message: string | null } {
    const topic = this.topics.get(name);
    if (!topic)
      return { code: KafkaCode.UNKNOWN_TOPIC_OR_PARTITION, message: `topic ${name} does not exist` };
    if (count <= topic.partitions.length) {
      return {
        code: KafkaCode.INVALID_PARTITIONS,
        message: `topic ${name} has ${topic.partitions.length} partitions; ${count} is not more`,
      };
    }
    if (count > 10_000)
      return { code: KafkaCode.INVALID_PARTITIONS, message: `partition count ${count} above 10000` };
    if (validateOnly) return { code: KafkaCode.NONE, message: null };
    const config = logConfigOf(topic.configs);
    for (let p = topic.partitions.length; p < count; p++) {
      const dir = this.partitionDir(name, p);
      fs.rmSync(dir, { recursive: true, force: true });
      topic.partitions.push(PartitionLog.open(dir, config, this.now, this.probe));
    }
    this.save();
    return { code: KafkaCode.NONE, message: null };
  }

  /** Deletes a topic and its data. */
  delete(name: string): number {
    const topic = this.topics.get(name);
    if (!topic) return KafkaCode.UNKNOWN_TOPIC_OR_PARTITION;
    this.topics.delete(name);
    this.save();
    for (const p of topic.partitions) p.destroy();
    return KafkaCode.NONE;
  }

  /** The effective value of every known config of a topic, with whether it is the default. */
  describe(name: string): Array<{ name: string; value: string; isDefault: boolean }> | null {
    const topic = this.topics.get(name);
    if (!topic) return null;
    return Object.entries(TOPIC_CONFIG_DEFAULTS).map(([k, d]) => ({
      name: k,
      value: topic.configs[k] ?? d,
      isDefault: topic.configs[k] === undefined,
    }));
  }

  partition(topic: string, partition: number): PartitionLog | null {
    return this.topics.get(topic)?.partitions[partition] ?? null;
  }

  close(): void {
    for (const t of this.topics.values()) {
      for (const p of t.partitions) {
        p.flush();
        p.close();
      }
    }
  }
}

function randomUuid(): string {
  return crypto.randomUUID();
}
