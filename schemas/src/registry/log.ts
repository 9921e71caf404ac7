import {
  createLogClient,
  type LogAdmin,
  type LogClient,
  type LogConsumer,
  type LogProducer,
} from '@promstream/log';
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

/**
 * The `_schemas` topic as the registry uses it: one partition, compacted.
 * At start it is read from the beginning to the end offset it had when the
 * registry started; after that the reader keeps following it, and a write
 * resolves only once the reader has read it back, so a registry answers from
 * state that includes its own writes.
 *
 * The reader is a consumer without a group: it starts at the beginning,
 * commits nothing and leaves nothing behind.
 */
export class SchemasLog {
  private readonly options: SchemasLogOptions;
  private readonly client: LogClient;
  private readonly producer: LogProducer;
  private readonly admin: LogAdmin;
  private readonly consumer: LogConsumer;
  private position = 0;
  private waiters: Waiter[] = [];
  private closed = false;

  constructor(options: SchemasLogOptions) {
    this.options = options;
    this.client = createLogClient({
      clientId: 'promstream-registry',
      brokers: options.brokers,
      logger: options.logger,
      requestTimeoutMs: 10_000,
    });
    // Schemas are small and rare: one producer, no batch compression needed.
    this.producer = this.client.producer({ producers: 1, compression: 'none' });
    this.admin = this.client.admin();
    this.consumer = this.client.consumer({ topic: options.topic, maxWaitMs: 250 });
  }

  /** The offset after the last record read. */
  get readPosition(): number {
    return this.position;
  }

  /** Creates the topic when missing, reads it to its end through `handler`, and keeps following it. */
  async start(handler: RecordHandler): Promise<void> {
    const { topic } = this.options;
    try {
      await this.admin.ensureTopics([{ topic, partitions: 1, compacted: true }]);
      const end = (await this.admin.watermarks(topic)).find((p) => p.partition === 0)?.high ?? 0;
      const caughtUp = this.waitFor(
        end - 1,
        this.options.startTimeoutMs ?? 60_000,
        'read _schemas to its end',
      );
      await this.consumer.run(async (batch) => {
        for (const m of batch.records) {
          // A consumer that restarts reads from the beginning again (it never commits);
          // records already applied are passed over so state never steps back.
          if (m.offset < this.position) continue;
          handler(m.key, m.value, m.offset);
          this.advance(m.offset + 1);
        }
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

  /**
   * Appends a record and resolves once the reader has applied it; 50001 when
   * the log refuses, 50002 on timeout. The write is acknowledged, so the
   * partition's end after it is past the record: once the reader reaches
   * that end it has applied the record.
   */
  async append(key: Buffer, value: Buffer | null): Promise<void> {
    const timeoutMs = this.options.writeTimeoutMs ?? 10_000;
    const { topic } = this.options;
    let offset: number;
    try {
      await this.producer.send(topic, [{ key, value, partition: 0 }]);
      const end = (await this.admin.watermarks(topic)).find((p) => p.partition === 0)?.high;
      if (end === undefined || end < 1) throw new Error('the log did not return an offset');
      offset = end - 1;
    } catch (err) {
      throw new RegistryError(RegistryErrorCode.StoreError, `write to ${topic}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    await this.waitFor(offset, timeoutMs, `read back offset ${offset} of ${topic}`);
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
    await this.client.close();
  }
}
