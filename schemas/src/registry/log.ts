import { randomUUID } from 'node:crypto';
import kafkajs, { type Admin, type Consumer, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { RegistryError, RegistryErrorCode } from './errors.js';

/** Options of the registry's log. */
export interface SchemasLogOptions {
  brokers: string[];
  /** The compacted topic holding the registry's state. */
  topic: string;
  logger?: Logger;
  /** How long a write may take, produce and read back, before it fails with 50002. */
  writeTimeoutMs?: number;
  /** How long reading the topic to its end at start may take. */
  startTimeoutMs?: number;
}

/** Receives each record of the topic, in offset order. */
export type RecordHandler = (key: Buffer | null, value: Buffer | null, offset: number) => void;

interface Waiter {
  offset: number;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

function kafkaLogCreator(logger: Logger | undefined) {
  return () =>
    ({ level, log }: { level: number; log: { message: string; [k: string]: unknown } }) => {
      if (logger === undefined) return;
      const { message, ...rest } = log;
      if (level <= kafkajs.logLevel.ERROR) logger.error(rest, `kafka: ${message}`);
      else if (level === kafkajs.logLevel.WARN) logger.warn(rest, `kafka: ${message}`);
      else logger.debug(rest, `kafka: ${message}`);
    };
}

/**
 * The `_schemas` topic as the registry uses it: one partition, compacted.
 * At start it is read from the beginning to the end offset it had when the
 * registry started; after that the reader keeps following it, and a write
 * resolves only once the reader has read it back, so a registry answers from
 * state that includes its own writes.
 *
 * kafkajs has no group-less consumer, so the reader joins a consumer group of
 * its own (a fresh id per start) and never commits: it always starts at the
 * beginning and leaves nothing behind but an empty group.
 */
export class SchemasLog {
  private readonly options: SchemasLogOptions;
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly consumer: Consumer;
  private position = 0;
  private waiters: Waiter[] = [];
  private closed = false;

  constructor(options: SchemasLogOptions) {
    this.options = options;
    this.kafka = new kafkajs.Kafka({
      clientId: 'promstream-registry',
      brokers: options.brokers,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 5000 },
      logLevel: kafkajs.logLevel.WARN,
      logCreator: kafkaLogCreator(options.logger),
    });
    // Every record goes to partition 0 explicitly; the partitioner is never asked.
    this.producer = this.kafka.producer({
      allowAutoTopicCreation: false,
      maxInFlightRequests: 1,
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
    this.admin = this.kafka.admin();
    this.consumer = this.kafka.consumer({
      groupId: `promstream-registry-${randomUUID()}`,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    });
  }

  /** The offset after the last record read. */
  get readPosition(): number {
    return this.position;
  }

  /** Creates the topic when missing, reads it to its end through `handler`, and keeps following it. */
  async start(handler: RecordHandler): Promise<void> {
    const { topic } = this.options;
    try {
      await this.admin.connect();
      await this.ensureTopic();
      await this.producer.connect();
      const offsets = await this.admin.fetchTopicOffsets(topic);
      const end = Number(offsets.find((p) => p.partition === 0)?.high ?? 0);
      await this.consumer.connect();
      await this.consumer.subscribe({ topic, fromBeginning: true });
      const caughtUp = this.waitFor(
        end - 1,
        this.options.startTimeoutMs ?? 60_000,
        'read _schemas to its end',
      );
      this.consumer.on(this.consumer.events.CRASH, (event) => {
        this.options.logger?.error(
          { err: event.payload.error, restart: event.payload.restart },
          'registry log reader crashed',
        );
      });
      await this.consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          for (const m of batch.messages) {
            const offset = Number(m.offset);
            // After a group rebalance the reader starts again from the beginning (it never
            // commits); records already applied are passed over so state never steps back.
            if (offset < this.position) continue;
            handler(m.key, m.value, offset);
            this.advance(offset + 1);
          }
          await heartbeat();
        },
      });
      await caughtUp;
    } catch (err) {
      await this.close();
      if (err instanceof RegistryError) throw err;
      throw new RegistryError(
        RegistryErrorCode.StoreError,
        `start the registry on topic ${topic}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  private async ensureTopic(): Promise<void> {
    const { topic } = this.options;
    const existing = await this.admin.listTopics();
    if (existing.includes(topic)) return;
    const brokers = (await this.admin.describeCluster()).brokers.length;
    try {
      await this.admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: 1,
            replicationFactor: Math.max(1, Math.min(3, brokers)),
            configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
          },
        ],
      });
    } catch (err) {
      // Another registry may have created it between the listing and here.
      if (!(await this.admin.listTopics()).includes(topic)) throw err;
    }
  }

  /** Appends a record and resolves once the reader has applied it; 50001 when the log refuses, 50002 on timeout. */
  async append(key: Buffer, value: Buffer | null): Promise<void> {
    const timeoutMs = this.options.writeTimeoutMs ?? 10_000;
    let offset: number;
    try {
      const [meta] = await this.producer.send({
        topic: this.options.topic,
        acks: -1,
        timeout: timeoutMs,
        messages: [{ key, value, partition: 0 }],
      });
      offset = Number(meta?.baseOffset ?? meta?.offset);
      if (!Number.isFinite(offset)) throw new Error('the log did not return an offset');
    } catch (err) {
      throw new RegistryError(
        RegistryErrorCode.StoreError,
        `write to ${this.options.topic}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    await this.waitFor(offset, timeoutMs, `read back offset ${offset} of ${this.options.topic}`);
  }

  private waitFor(offset: number, timeoutMs: number, action: string): Promise<void> {
    if (this.position > offset) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        offset,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new RegistryError(RegistryErrorCode.Timeout, `${action}: timed out after ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private advance(position: number): void {
    this.position = position;
    const done = this.waiters.filter((w) => w.offset < position);
    if (done.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.offset >= position);
    for (const w of done) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  /** Stops reading and disconnects; pending writes fail with 50001. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new RegistryError(RegistryErrorCode.StoreError, 'the registry is closing'));
    }
    this.waiters = [];
    await Promise.allSettled([
      this.consumer.disconnect(),
      this.producer.disconnect(),
      this.admin.disconnect(),
    ]);
  }
}
