import {
  createLogClient,
  type LogAdmin,
  type LogBatch,
  type LogClient,
  type LogConsumer,
  LogError,
  LogErrorCode,
} from '@promstream/log';
import { backfillSource, readFailure } from '@promstream/schemas';
import {
  DEFAULT_FUTURE_GRACE,
  defaultBackfillIdle,
  type Labels,
  type PlacementRules,
  tenantIdProblem,
} from '@promstream/storage';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ApiError } from '../api/errors.js';
import { MergeQuerier } from '../merge-querier.js';
import type { Querier } from '../querier.js';
import { HeadStore } from './head-store.js';
import { type BlockWatermark, PartitionTail, type TailRecord } from './partition-tail.js';

/** One `SampleBatch` record decoded to float samples (the block builder's decoder fits). */
export interface HeadRecordDecoder {
  decode(value: Buffer): Promise<{
    tenant: string;
    series: { labels: Labels; t: ArrayLike<number>; v: ArrayLike<number> }[];
  }>;
}

/** Where the blocks of a partition end, as the block builder records it. */
export interface BlockWatermarks {
  load(topic: string, partition: number): Promise<BlockWatermark | undefined>;
}

/** Options of the log-tail head. */
export interface LogHeadOptions {
  brokers: string[];
  /** The samples topic. */
  topic: string;
  decoder: HeadRecordDecoder;
  watermarks: BlockWatermarks;
  logger: Logger;
  registry?: Registry;
  /** How often the block watermarks are read again (default 5 s). */
  refreshMs?: number;
  /**
   * How long the head keeps samples after the builder's state says blocks
   * hold them, ms (default 0): the block list of the query tier is read again
   * only so often, and until it lists the new blocks, the head answers.
   */
  holdMs?: number;
  now?: () => number;
  /** Waits between two reads of a record that failed (injected for tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Reads of a record whose schema the registry did not resolve, before it is skipped (default 3). */
  recheckAttempts?: number;
  /** Wait between those reads, ms (default 1000). */
  recheckDelayMs?: number;
  /** Longest wait for a registry that does not answer, ms (default 5000). */
  maxRetryDelayMs?: number;
  /**
   * The placement rules, when the builder's state does not name them yet
   * (give the builder's own: block duration, window, grace, backfill idle).
   */
  rules?: PlacementRules;
}

/** The builder's default rules: 2 h blocks, a 10 min window and grace. */
export const DEFAULT_HEAD_RULES: PlacementRules = {
  blockDuration: 7_200_000,
  outOfOrderWindow: 600_000,
  futureGrace: DEFAULT_FUTURE_GRACE,
  backfillIdle: defaultBackfillIdle(600_000),
};

interface PartitionCursor {
  /** The first offset to read. */
  start: number;
  /** The next offset to read. */
  next: number;
  /** Where the partition's samples go, by the builder's rules. */
  tail: PartitionTail;
  /** States of the builder read but not applied yet (see holdMs). */
  pending: { mark: BlockWatermark; seen: number }[];
  /** The last state read, to queue each once. */
  lastMark: string;
}

/**
 * The query tier's head: reads each partition of the samples topic from the
 * end of its newest block into memory and drops what new blocks cover. With
 * `waitForLatest` a query can wait until everything acknowledged before it
 * arrived is readable (`X-Read-Consistency: strong`).
 */
export class LogHead {
  readonly store = new HeadStore();
  private readonly cursors = new Map<number, PartitionCursor>();
  private readonly client: LogClient;
  private readonly admin: LogAdmin;
  private consumer?: LogConsumer;
  private started = false;
  private timer?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private starting = false;
  private readonly progress = new Set<() => void>();
  private readonly metrics;

  constructor(private readonly options: LogHeadOptions) {
    this.client = createLogClient({
      clientId: 'promstream-query-head',
      brokers: options.brokers,
      logger: options.logger,
    });
    this.admin = this.client.admin();
    const registers = options.registry === undefined ? [] : [options.registry];
    this.metrics = {
      samples: new Counter({
        name: 'promstream_head_samples_appended_total',
        help: 'Samples read from the log into the query head.',
        registers,
      }),
      skipped: new Counter({
        name: 'promstream_head_records_skipped_total',
        help: 'Log records the query head skipped (the block builder dead-letters them), by reason.',
        labelNames: ['reason'],
        registers,
      }),
      waits: new Counter({
        name: 'promstream_head_read_retries_total',
        help: 'Waits before reading a record again (registry unavailable, or its schema rechecked), by reason.',
        labelNames: ['reason'],
        registers,
      }),
      held: new Gauge({
        name: 'promstream_head_samples',
        help: 'Samples the query head holds.',
        registers,
        collect: () => {
          this.metrics.held.set(this.store.samples());
        },
      }),
    };
  }

  /**
   * Reads the block watermarks, then starts tailing every partition. When
   * the topic does not exist yet (nothing was written), it keeps looking
   * for it every second in the background.
   */
  async start(): Promise<void> {
    this.started = true;
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 5000);
    this.timer.unref();
    if (!(await this.tryTail())) {
      this.retry = setInterval(() => {
        void this.tryTail().then((ok) => {
          if (ok && this.retry !== undefined) clearInterval(this.retry);
        });
      }, 1000);
      this.retry.unref();
    }
  }

  private async tryTail(): Promise<boolean> {
    if (this.consumer !== undefined) return true;
    if (!this.started || this.starting) return false;
    const { topic, logger } = this.options;
    this.starting = true;
    try {
      let offsets: { partition: number; low: number; high: number }[];
      try {
        offsets = await this.admin.watermarks(topic);
      } catch (err) {
        // Tried again every second: the topic appears with the first write, the log comes back.
        const missing = err instanceof LogError && err.code === LogErrorCode.TopicMissing;
        logger.debug(
          { topic, err: (err as Error).message },
          missing ? 'the samples topic does not exist yet' : 'read the log offsets',
        );
        return false;
      }
      for (const p of offsets) {
        const mark = await this.options.watermarks.load(topic, p.partition);
        const start = Math.max(p.low, mark?.nextOffset ?? 0);
        this.cursors.set(p.partition, {
          tail: this.tail(p.partition, mark),
          pending: [],
          lastMark: '',
          start,
          next: start,
        });
      }
      logger.info({ cursors: Object.fromEntries(this.cursors) }, 'query head starts tailing the log');
      // No group: every query replica reads every partition and commits nothing.
      const consumer = this.client.consumer({
        topic,
        maxWaitMs: 100,
        start: (partition) => this.cursors.get(partition)?.start ?? 0,
      });
      await consumer.run((batch) => this.onBatch(batch));
      this.consumer = consumer;
      return true;
    } finally {
      this.starting = false;
    }
  }

  /** Stops tailing. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.retry !== undefined) clearInterval(this.retry);
    await this.client.close();
  }

  /** A querier over one tenant's head: live samples and backfill ranges not yet in blocks. */
  querier(tenant: string): Querier {
    const backfill: Querier[] = [];
    for (const c of this.cursors.values()) backfill.push(...c.tail.backfillQueriers(tenant));
    const live = this.store.querier(tenant);
    return backfill.length === 0 ? live : new MergeQuerier([live, ...backfill]);
  }

  /** A partition's tail, restored from the builder's state when there is one. */
  private tail(partition: number, mark: BlockWatermark | undefined): PartitionTail {
    return new PartitionTail(partition, this.store, this.options.rules ?? DEFAULT_HEAD_RULES, mark);
  }

  /**
   * Resolves once the head has read every record that was in the log when
   * it was called; rejects with a 503 `unavailable` ApiError after timeoutMs.
   */
  async waitForLatest(timeoutMs: number): Promise<void> {
    const now = this.options.now ?? Date.now;
    const deadline = now() + timeoutMs;
    if (!this.started) throw new ApiError('unavailable', 'the query head is not started');
    let latest: { partition: number; high: number }[];
    try {
      latest = await this.admin.watermarks(this.options.topic);
    } catch (err) {
      // No topic: nothing was ever written, so there is nothing to wait for.
      if (err instanceof LogError && err.code === LogErrorCode.TopicMissing) return;
      throw new ApiError('unavailable', `read consistency: ${(err as Error).message}`, { cause: err });
    }
    if (this.consumer === undefined && !(await this.tryTail()))
      throw new ApiError('unavailable', 'read consistency: the query head is not tailing the log yet');
    for (;;) {
      const behind = latest.filter((p) => (this.cursors.get(p.partition)?.next ?? 0) < p.high);
      if (behind.length === 0) return;
      const left = deadline - now();
      if (left <= 0) {
        throw new ApiError(
          'unavailable',
          `read consistency: the head has not read offsets ${behind.map((p) => `${p.partition}:${p.high}`).join(',')} after ${timeoutMs} ms`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, Math.min(left, 50));
        const progress = this.progress;
        function wake() {
          clearTimeout(timer);
          progress.delete(wake);
          resolve();
        }
        progress.add(wake);
      });
    }
  }

  /** Where each partition is: its boundary and next offset. */
  status(): { partition: number; boundary: number; clock: number; next: number }[] {
    return [...this.cursors].map(([partition, c]) => ({
      partition,
      boundary: c.tail.boundary,
      clock: c.tail.clock.clock,
      next: c.next,
    }));
  }

  /**
   * Reads a batch into the store. A record that can never be read (not a
   * SampleBatch, a tenant the rule refuses, a schema the registry does not
   * resolve after a few tries) is skipped and counted by reason. The head does
   * not write it to the dead-letter topic: the block builder, one consumer
   * group over the log, owns durability and dead-letters each such record
   * once, while every query replica tails every partition in a group of its
   * own and would write one copy each. A registry that does not answer is
   * waited out here, the same record read again, never skipped: the builder
   * will place that record, so the head must not leave it out.
   */
  private async onBatch(logBatch: LogBatch): Promise<void> {
    const { partition, records, heartbeat } = logBatch;
    const keepGoing = logBatch.active;
    let cursor = this.cursors.get(partition);
    if (cursor === undefined)
      this.cursors.set(
        partition,
        (cursor = { tail: this.tail(partition, undefined), pending: [], lastMark: '', start: 0, next: 0 }),
      );
    for (const message of records) {
      const offset = message.offset;
      if (offset < cursor.next) continue;
      let batch: TailRecord | undefined;
      if (message.value !== null) {
        const read = await this.read(partition, offset, message.value, heartbeat, keepGoing);
        // The batch is no longer this consumer's: whoever owns it reads the record again.
        if (read === 'stopped') break;
        batch = read;
      }
      const isBackfill = backfillSource(message.headers) !== undefined;
      this.metrics.samples.inc(cursor.tail.add(offset, message.timestamp, isBackfill, batch));
      cursor.next = offset + 1;
    }
    cursor.tail.endBatch();
    for (const wake of [...this.progress]) wake();
  }

  /** Decodes one record, waiting out transient failures; undefined when it is skipped for good. */
  private async read(
    partition: number,
    offset: number,
    value: Buffer,
    heartbeat: () => Promise<void>,
    keepGoing: () => boolean,
  ): Promise<Awaited<ReturnType<HeadRecordDecoder['decode']>> | undefined | 'stopped'> {
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const rechecks = this.options.recheckAttempts ?? 3;
    let delay = 100;
    let rechecked = 0;
    for (;;) {
      let reason: string;
      let wait: number | undefined;
      try {
        const batch = await this.options.decoder.decode(value);
        const problem = tenantIdProblem(batch.tenant);
        if (problem === undefined) return batch;
        reason = 'invalid_tenant';
      } catch (err) {
        const failure = readFailure(err);
        reason = failure.reason;
        if (failure.retryable) {
          wait = delay;
          delay = Math.min(this.options.maxRetryDelayMs ?? 5000, delay * 2);
        } else if (failure.recheck && ++rechecked < rechecks) {
          wait = this.options.recheckDelayMs ?? 1000;
        }
        if (wait !== undefined)
          this.options.logger.warn({ partition, offset, reason, err, wait }, 'read a record again');
      }
      if (wait === undefined) {
        this.metrics.skipped.inc({ reason });
        this.options.logger.warn({ partition, offset, reason }, 'skip a record the head cannot read');
        return undefined;
      }
      this.metrics.waits.inc({ reason });
      await heartbeat();
      if (!keepGoing()) return 'stopped';
      await sleep(wait);
      if (!keepGoing()) return 'stopped';
    }
  }

  /** Reads the block watermarks again and drops what new blocks cover. */
  async refresh(): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    const hold = this.options.holdMs ?? 0;
    for (const [partition, cursor] of this.cursors) {
      try {
        const mark = await this.options.watermarks.load(this.options.topic, partition);
        const key =
          mark === undefined ? '' : JSON.stringify([mark.boundary, mark.nextOffset, mark.backfillCuts]);
        if (mark !== undefined && key !== cursor.lastMark) {
          cursor.lastMark = key;
          cursor.pending.push({ mark, seen: now });
        }
        // A state is applied once the query tier's block list has had time to list its blocks.
        while (cursor.pending.length > 0 && cursor.pending[0]!.seen + hold <= now)
          cursor.tail.applyWatermark(cursor.pending.shift()!.mark);
      } catch (err) {
        this.options.logger.warn({ partition, err }, 'read block watermark');
      }
    }
  }
}

/** The request header that asks for read-after-write. */
export const READ_CONSISTENCY_HEADER = 'x-read-consistency';

/**
 * A fastify `onRequest` hook: a request with `X-Read-Consistency: strong`
 * waits until the head has read what the log held when it arrived, and gets
 * Prometheus' error format with status 503 when that takes over timeoutMs.
 */
export function readConsistencyHook(head: Pick<LogHead, 'waitForLatest'>, timeoutMs: number) {
  return async (
    request: { headers: Record<string, string | string[] | undefined> },
    reply: { code(n: number): { header(k: string, v: string): { send(body: string): unknown } } },
  ): Promise<void> => {
    const raw = request.headers[READ_CONSISTENCY_HEADER];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined || value.toLowerCase() !== 'strong') return;
    try {
      await head.waitForLatest(timeoutMs);
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError('unavailable', String(err), { cause: err });
      await reply
        .code(apiErr.status)
        .header('content-type', 'application/json')
        .send(JSON.stringify({ status: 'error', errorType: apiErr.code, error: apiErr.message }));
    }
  };
}
