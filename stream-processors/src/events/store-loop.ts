import type { ConsumedRecord, LogBatch, LogConsumer } from '@promstream/log';
import {
  cutFiles,
  DEFAULT_EVENT_LIMITS,
  encodeSegment,
  eventSize,
  type SegmentOrigin,
  StorageError,
  StorageErrorCode,
  type StoredEvent,
  toStored,
} from '@promstream/storage';
import { letterFor } from '../block-builder/record-rules.js';
import type { DeadLetter } from '../deadletter/seams.js';
import { StreamError } from '../errors.js';
import { asStreamError, tryRecord } from '../retry.js';
import { type CountKey, countKey } from './derived.js';
import type { EventStoreOptions } from './event-store.js';
import type { EventStoreMetrics } from './metrics.js';
import type { EventPartitionState } from './seams.js';
import { eventTenant, eventTenantProblem } from './tenant.js';

/** The processor name dead letters carry. */
export const EVENT_STORE = 'event-store';

/** What one partition has read since its last cut. */
interface PartitionBuffer {
  state: EventPartitionState;
  events: StoredEvent[];
  letters: DeadLetter[];
  bytes: number;
  /** The first and last offset read since the cut (-1: none). */
  first: number;
  last: number;
  /** When the first record of the buffer was read (the store's clock). */
  since: number;
}

/**
 * The event store's per-partition loop: reads each record into the
 * partition's buffer (or its dead letters), and cuts the buffer into
 * segments once it is large or old enough. A cut is saved as pending,
 * uploaded, saved as done, and only then committed (README, "Exactly once").
 * Batches and timer cuts of one partition run one after another.
 */
export class EventStoreLoop {
  private readonly buffers = new Map<number, PartitionBuffer>();
  private readonly chains = new Map<number, Promise<void>>();
  private readonly committed = new Map<number, number>();
  private readonly now: () => number;

  constructor(
    private readonly options: EventStoreOptions,
    private readonly consumer: LogConsumer,
    private readonly metrics: EventStoreMetrics,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** After a rebalance the consumer resumes from committed offsets: buffers start over. */
  reset(): void {
    this.buffers.clear();
  }

  /** The offset committed per partition. */
  commits(): Map<number, number> {
    return new Map(this.committed);
  }

  /** Runs `fn` after everything queued on the partition. */
  private serial(partition: number, fn: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(partition) ?? Promise.resolve()).then(fn, fn);
    this.chains.set(
      partition,
      next.catch(() => {}),
    );
    return next;
  }

  onBatch(batch: LogBatch): Promise<void> {
    return this.serial(batch.partition, () => this.read(batch));
  }

  /** Cuts every buffer that is old enough; the role calls it on a timer. */
  async cutAged(): Promise<void> {
    const maxAge = this.options.maxSegmentAge ?? 30_000;
    const due = [...this.buffers].filter(([, b]) => b.last >= 0 && this.now() - b.since >= maxAge);
    await Promise.all(
      due.map(([partition]) =>
        this.serial(partition, async () => {
          const buf = this.buffers.get(partition);
          if (buf === undefined || buf.last < 0) return;
          try {
            await this.cut(partition, buf);
          } catch (err) {
            this.restart(partition, err);
          }
        }),
      ),
    );
  }

  private async read(batch: LogBatch): Promise<void> {
    const { partition } = batch;
    try {
      const buf = this.buffers.get(partition) ?? (await this.open(partition));
      const maxBytes = this.options.maxSegmentBytes ?? 8 << 20;
      for (const record of batch.records) {
        if (!batch.active()) break;
        const seen = buf.last >= 0 ? buf.last : buf.state.nextOffset - 1;
        if (record.offset <= seen) continue;
        if (buf.last < 0) {
          buf.first = record.offset;
          buf.since = this.now();
        }
        await this.take(partition, record, buf, batch);
        buf.last = record.offset;
        if (buf.bytes >= maxBytes) await this.cut(partition, buf);
      }
      await batch.heartbeat();
    } catch (err) {
      this.restart(partition, err);
      throw err;
    }
  }

  /** Forgets the partition's buffer and reads again from its commit. */
  private restart(partition: number, err: unknown): void {
    this.buffers.delete(partition);
    const from = this.committed.get(partition);
    this.options.logger.error(
      { partition, err, from },
      'event cut did not complete; read the partition again',
    );
    if (from !== undefined) this.consumer.seek(partition, from);
  }

  /** Loads a partition's state, settling a cut a crash left pending. */
  private async open(partition: number): Promise<PartitionBuffer> {
    const { topic, state: states, store } = this.options;
    let state = (await states.load(topic, partition)) ?? { version: 1, nextOffset: 0 };
    const pending = state.pending;
    if (pending !== undefined) {
      const present = await Promise.all(pending.keys.map((k) => store.head(k)));
      const whole = present.every((p) => p !== undefined);
      if (whole) {
        state = { version: 1, nextOffset: pending.lastOffset + 1, counts: state.counts };
      } else {
        for (const key of pending.keys) await store.delete(key);
        state = { version: 1, nextOffset: pending.firstOffset, counts: state.counts };
      }
      await states.save(topic, partition, state);
      this.metrics.adopted.inc({ outcome: whole ? 'adopted' : 'redone' });
      this.options.logger.info({ partition, pending, whole }, 'settled a pending cut');
    }
    this.options.logger.info({ partition, nextOffset: state.nextOffset }, 'event partition opened');
    const buf: PartitionBuffer = { state, events: [], letters: [], bytes: 0, first: -1, last: -1, since: 0 };
    this.buffers.set(partition, buf);
    return buf;
  }

  /** Decodes one record into the buffer, or queues its dead letter. */
  private async take(partition: number, record: ConsumedRecord, buf: PartitionBuffer, batch: LogBatch) {
    if (record.value === null) return;
    const value = record.value;
    const decoded = await tryRecord(() => this.options.decoder.decode(value), this.options.retry ?? {}, {
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      keepGoing: () => batch.active(),
      onWait: () => batch.heartbeat(),
    });
    if (!decoded.ok) {
      if (!('error' in decoded)) throw new StreamError('LOG', `partition ${partition} was given up`);
      this.letter(partition, record, decoded.error, decoded.attempts, buf);
      return;
    }
    const tenant = eventTenant(decoded.value, this.options.defaultTenant ?? 'anonymous');
    const problem = eventTenantProblem(tenant);
    if (problem !== undefined) {
      this.letter(partition, record, new StreamError('INVALID_TENANT', problem), 1, buf, tenant);
      return;
    }
    const stored = toStored(
      decoded.value,
      tenant,
      partition,
      record.offset,
      this.options.limits ?? DEFAULT_EVENT_LIMITS,
    );
    buf.events.push(stored);
    buf.bytes += eventSize(stored);
  }

  private letter(
    partition: number,
    record: ConsumedRecord,
    error: StreamError,
    attempts: number,
    buf: PartitionBuffer,
    tenant?: string,
  ): void {
    const e = asStreamError(error);
    buf.letters.push(
      letterFor({
        topic: this.options.topic,
        partition,
        offset: record.offset,
        message: record,
        processor: EVENT_STORE,
        error: e,
        attempts,
        now: this.now(),
        tenant,
      }),
    );
    this.options.logger.warn(
      { partition, offset: record.offset, reason: e.reason, err: e },
      'dead-letter an event record',
    );
  }

  /** Writes the buffer's segments and dead letters, saves the state, commits. */
  private async cut(partition: number, buf: PartitionBuffer): Promise<void> {
    const { topic, store, state: states, faults } = this.options;
    const origin: SegmentOrigin = { topic, partition, firstOffset: buf.first, lastOffset: buf.last };
    const files = cutFiles(buf.events, origin);
    const counts = { ...(buf.state.counts ?? {}) };
    if (files.length > 0) {
      const pending = { firstOffset: buf.first, lastOffset: buf.last, keys: files.map((f) => f.key) };
      await states.save(topic, partition, { ...buf.state, pending });
      faults?.reached('after-intent', { partition, ...pending });
      for (const [i, file] of files.entries()) {
        const bytes = encodeSegment(file.events, origin);
        await putSegment(store, file.key, bytes);
        this.metrics.segments.inc();
        this.metrics.segmentBytes.inc(bytes.length);
        if (i < files.length - 1) faults?.reached('mid-cut', { partition, key: file.key });
      }
      faults?.reached('after-upload', { partition, ...pending });
    }
    if (buf.letters.length > 0) {
      await this.options.deadLetters.send(buf.letters);
      for (const l of buf.letters) this.metrics.deadLettered.inc({ reason: l.info.reason });
    }
    const touched = new Map<CountKey, number>();
    for (const e of buf.events) {
      const key = countKey(e);
      counts[key] = (counts[key] ?? 0) + 1;
      touched.set(key, counts[key]);
    }
    const next = buf.last + 1;
    const state: EventPartitionState = { version: 1, nextOffset: next, counts };
    await states.save(topic, partition, state);
    faults?.reached('after-state', { partition, nextOffset: next });
    try {
      await this.consumer.commit(partition, next);
    } catch (err) {
      throw new StreamError('LOG', `commit offset ${next} on partition ${partition}`, { cause: err });
    }
    this.committed.set(partition, next);
    this.metrics.committed.labels(String(partition)).set(next);
    this.metrics.events.inc(buf.events.length);
    this.metrics.truncated.inc(buf.events.filter((e) => e.truncated).length);
    this.options.logger.info(
      {
        partition,
        firstOffset: buf.first,
        lastOffset: buf.last,
        events: buf.events.length,
        files: files.length,
      },
      'event segments written',
    );
    const cutTime = buf.events.reduce((m, e) => Math.max(m, e.time), 0);
    Object.assign(buf, { state, events: [], letters: [], bytes: 0, first: -1, last: -1, since: 0 });
    if (touched.size > 0 && this.options.derived !== undefined) {
      // Counters are a derived view: a failure is logged, the segments and commit stand.
      await this.options.derived.write(touched, cutTime).catch((err: unknown) => {
        this.options.logger.warn({ partition, err }, 'write derived event counters');
      });
    }
  }
}

async function putSegment(store: EventStoreOptions['store'], key: string, bytes: Uint8Array): Promise<void> {
  try {
    await store.put(key, bytes);
  } catch (err) {
    const retryable = !(err instanceof StorageError && err.code === StorageErrorCode.InvalidArgument);
    throw new StreamError(retryable ? 'UPLOAD' : 'BAD_OPTIONS', `upload event segment ${key}`, {
      cause: err,
    });
  }
}
