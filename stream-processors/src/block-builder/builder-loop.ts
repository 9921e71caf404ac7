import type { ConsumedRecord, LogBatch, LogConsumer } from '@promstream/log';
import { backfillSource } from '@promstream/schemas';
import type { PlacementRules } from '@promstream/storage';
import type { DeadLetterMetrics } from '../deadletter/metrics.js';
import type { DeadLetter, DeadLetterSink } from '../deadletter/seams.js';
import { StreamError } from '../errors.js';
import { type RetryContext, type RetryPolicy, tryRecord } from '../retry.js';
import { blockUlid } from './block-id.js';
import type { BlockBuilderOptions } from './builder.js';
import type { BlockBuilderMetrics } from './metrics.js';
import { type DropReason, PartitionHead } from './partition-head.js';
import { checkRecordTenant, letterFor } from './record-rules.js';
import { BLOCK_BUILDER, placementRules } from './rules.js';
import type { PartitionState } from './seams.js';

/**
 * The block builder's batch loop: reads each record into its partition's
 * head (or the dead-letter topic), writes the batch's dead letters, cuts
 * the closed ranges into blocks, saves the partition state, and only then
 * commits. Transient failures are waited out in place, heartbeating.
 */
export class BuilderLoop {
  private readonly heads = new Map<number, PartitionHead>();
  private readonly committed = new Map<number, number>();
  /** Per partition: the boundary of the last state saved, so blocks before it are written. */
  private readonly saved = new Map<number, number>();
  private readonly waiters = new Set<() => void>();
  private readonly rules: PlacementRules;
  private readonly retry: RetryPolicy;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly options: BlockBuilderOptions,
    private readonly consumer: LogConsumer,
    private readonly metrics: BlockBuilderMetrics,
    private readonly letterMetrics: DeadLetterMetrics,
    private readonly deadLetters: DeadLetterSink,
  ) {
    this.rules = placementRules(options);
    this.retry = options.retry ?? {};
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** After a rebalance the consumer resumes from committed offsets: heads start over. */
  reset(): void {
    this.heads.clear();
  }

  status() {
    return [...this.heads.entries()]
      .map(([partition, head]) => ({
        partition,
        committed: this.committed.get(partition) ?? -1,
        lastRead: head.lastRead(),
        boundary: this.saved.get(partition) ?? Number.NEGATIVE_INFINITY,
        clock: head.time,
        headSamples: head.samples(),
      }))
      .sort((a, b) => a.partition - b.partition);
  }

  async waitForCommit(partition: number, offset: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.committed.get(partition) ?? -1) < offset) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new StreamError(
          'LOG',
          `wait for commit of offset ${offset} on partition ${partition}: at ${this.committed.get(partition) ?? -1} after ${timeoutMs} ms`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 200));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  /** The retry context of one batch: heartbeats while waiting, stops when the batch is no longer ours. */
  private context(partition: number, payload: LogBatch): RetryContext {
    return {
      sleep: this.sleep,
      keepGoing: () => payload.active(),
      onWait: async (error, attempt, delayMs) => {
        this.letterMetrics.retries.inc({ processor: BLOCK_BUILDER, code: error.code });
        this.options.logger.warn(
          { partition, code: error.code, err: error, attempt, delayMs },
          error.retryable ? 'wait for a transient failure to pass' : 'check a failing record again',
        );
        await payload.heartbeat();
      },
    };
  }

  async onBatch(batch: LogBatch): Promise<void> {
    const { heartbeat } = batch;
    const { topic } = this.options;
    const partition = batch.partition;
    const log = this.options.logger;
    const ctx = this.context(partition, batch);
    let head = this.heads.get(partition);
    if (head === undefined) {
      const loaded = await tryRecord(() => this.options.state.load(topic, partition), this.retry, ctx);
      if (!loaded.ok) throw 'error' in loaded ? loaded.error : new StreamError('LOG', 'stopped');
      const state = loaded.value;
      head = new PartitionHead({
        rules: this.rules,
        restored: {
          clock: state?.clock ?? Number.NEGATIVE_INFINITY,
          boundary: state?.boundary ?? Number.NEGATIVE_INFINITY,
          backfillCuts: state?.backfillCuts ?? [],
          handledThrough: state?.handledThrough ?? (state?.nextOffset ?? 0) - 1,
        },
      });
      this.heads.set(partition, head);
      log.info({ partition, state, firstOffset: batch.records[0]?.offset }, 'partition head started');
    }
    const letters: DeadLetter[] = [];
    try {
      for (const message of batch.records) {
        if (!batch.active()) break;
        const offset = message.offset;
        if (offset <= head.lastRead()) continue;
        if (!(await this.handle(partition, offset, message, head, ctx, letters))) break;
        head.endRecord(offset);
      }
      await this.writeLetters(partition, letters, ctx);
      await this.cut(partition, head, heartbeat, ctx, letters.length > 0);
      await heartbeat();
    } catch (err) {
      // The head may have lost ranges it could not upload: start the partition over from the commit.
      this.heads.delete(partition);
      const from = this.committed.get(partition);
      log.error(
        { partition, err, from },
        'block cut did not complete; restart the partition from its commit',
      );
      if (from !== undefined) this.consumer.seek(partition, from);
      throw err;
    }
  }

  /**
   * Reads one record into the head, or into `letters` when it cannot be
   * processed. False when the batch stopped being ours while a transient
   * failure was waited out (the record is read again by whoever owns it).
   */
  private async handle(
    partition: number,
    offset: number,
    message: ConsumedRecord,
    head: PartitionHead,
    ctx: RetryContext,
    letters: DeadLetter[],
  ): Promise<boolean> {
    // Every record moves the clock, whether it decodes or not: the clock is the log's alone.
    head.beginRecord(offset, message.timestamp, backfillSource(message.headers) !== undefined);
    if (message.value === null) return true;
    const value = message.value;
    const decoded = await tryRecord(() => this.options.decoder.decode(value), this.retry, ctx);
    if (!decoded.ok) {
      if (!('error' in decoded)) return false;
      this.letter(head, partition, offset, message, decoded.error, decoded.attempts, letters);
      return true;
    }
    const batch = decoded.value;
    const refused = checkRecordTenant(batch.tenant);
    if (refused !== undefined) {
      this.letter(head, partition, offset, message, refused, 1, letters, batch.tenant);
      return true;
    }
    let placed = 0;
    let tooOld = 0;
    let tooFarFuture = 0;
    for (const s of batch.series) {
      const r = head.append(batch.tenant, s.labels, s.t, s.v);
      placed += r.placed;
      tooOld += r.tooOld;
      tooFarFuture += r.tooFarFuture;
    }
    this.metrics.samples.inc(placed);
    if (batch.skippedHistograms > 0) this.metrics.skippedHistograms.inc(batch.skippedHistograms);
    if (tooOld + tooFarFuture > 0) {
      // The placeable samples are in the head; the record goes to the dead-letter topic whole.
      const error = new StreamError(
        tooFarFuture > 0 ? 'SAMPLE_TOO_FAR_FUTURE' : 'SAMPLE_TOO_OLD',
        refusedSamples(tooOld, tooFarFuture, head, message.timestamp, this.rules),
      );
      this.letter(head, partition, offset, message, error, 1, letters, batch.tenant, tooOld + tooFarFuture);
    }
    return true;
  }

  /** Queues a dead letter for a record, unless a run before a restart already wrote it. */
  private letter(
    head: PartitionHead,
    partition: number,
    offset: number,
    message: ConsumedRecord,
    error: StreamError,
    attempts: number,
    letters: DeadLetter[],
    tenant?: string,
    samples?: number,
  ): void {
    if (offset <= head.handledThrough) return;
    const letter = letterFor({
      topic: this.options.topic,
      partition,
      offset,
      message,
      processor: BLOCK_BUILDER,
      error,
      attempts,
      now: this.now(),
      tenant,
      samples,
    });
    letters.push(letter);
    this.options.logger.warn(
      { partition, offset, reason: error.reason, err: error, attempts, tenant, samples },
      'dead-letter a record',
    );
  }

  /** Makes the batch's dead letters durable (waiting out a broker that does not answer), then counts them. */
  private async writeLetters(partition: number, letters: DeadLetter[], ctx: RetryContext): Promise<void> {
    if (letters.length === 0) return;
    const sent = await tryRecord(() => this.deadLetters.send(letters), this.retry, ctx);
    if (!sent.ok)
      throw 'error' in sent
        ? sent.error
        : new StreamError('LOG', `partition ${partition} was given up before its dead letters were written`);
    this.options.faults?.reached('after-deadletter', {
      partition,
      offsets: letters.map((l) => l.info.offset),
    });
    for (const l of letters) {
      this.letterMetrics.records.inc({ processor: BLOCK_BUILDER, reason: l.info.reason });
      if (l.info.samples !== undefined)
        this.letterMetrics.samples.inc({ processor: BLOCK_BUILDER, reason: l.info.reason }, l.info.samples);
    }
  }

  /** Runs a store or log call, waiting out transient failures; throws when the batch is given up. */
  private async must<T>(what: string, fn: () => Promise<T>, ctx: RetryContext): Promise<T> {
    const r = await tryRecord(fn, this.retry, ctx);
    if (r.ok) return r.value;
    throw 'error' in r ? r.error : new StreamError('LOG', `${what}: the partition was given up meanwhile`);
  }

  private async cut(
    partition: number,
    head: PartitionHead,
    heartbeat: () => Promise<void>,
    ctx: RetryContext,
    lettered: boolean,
  ): Promise<void> {
    const { topic, sink, state } = this.options;
    const blocks = head.cut();
    for (const block of blocks) {
      if (block.samples === 0) continue;
      const ulid = blockUlid({
        topic,
        partition,
        tenant: block.tenant,
        firstOffset: block.firstOffset,
        lastOffset: block.lastOffset,
        minTime: block.rangeStart,
      });
      await this.must(
        `write block ${ulid}`,
        () =>
          sink.write(ulid, block, {
            topic,
            partition,
            firstOffset: block.firstOffset,
            lastOffset: block.lastOffset,
          }),
        ctx,
      );
      this.options.faults?.reached('after-upload', { partition, ulid, tenant: block.tenant });
      await heartbeat();
      this.metrics.blocks.inc({ kind: block.backfill ? 'backfill' : 'live' });
      this.metrics.blockSamples.inc(block.samples);
      this.options.logger.info(
        {
          partition,
          tenant: block.tenant,
          ulid,
          range: [block.rangeStart, block.rangeEnd],
          samples: block.samples,
          backfill: block.backfill,
        },
        'block uploaded',
      );
    }
    this.syncDropped(head);
    const next = head.commitOffset();
    this.metrics.headSamples.labels(String(partition)).set(head.samples());
    if (blocks.length === 0 && !lettered && next === this.committed.get(partition)) return;
    // Every record read so far had its dead letters written (writeLetters ran first): the
    // state says so, and a restart that reads them again does not write them twice.
    const saved: PartitionState = {
      boundary: head.boundary,
      nextOffset: next,
      handledThrough: Math.max(head.lastRead(), head.handledThrough),
      ...head.restoreState(),
      rules: this.rules,
    };
    await this.must(
      `save the state of partition ${partition}`,
      () => state.save(topic, partition, saved),
      ctx,
    );
    this.options.faults?.reached('after-state', { partition, nextOffset: next, boundary: saved.boundary });
    await this.must(
      `commit offset ${next} on partition ${partition}`,
      async () => {
        try {
          await this.consumer.commit(partition, next);
        } catch (err) {
          throw new StreamError('LOG', `commit offset ${next} on partition ${partition}`, { cause: err });
        }
      },
      ctx,
    );
    this.committed.set(partition, next);
    this.saved.set(partition, saved.boundary);
    this.metrics.committed.labels(String(partition)).set(next);
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  private readonly reportedDrops = new WeakMap<PartitionHead, Record<DropReason, number>>();

  private syncDropped(head: PartitionHead): void {
    const before = this.reportedDrops.get(head) ?? { too_old: 0, too_far_future: 0, covered: 0 };
    for (const reason of ['too_old', 'too_far_future', 'covered'] as const) {
      const n = head.dropped[reason] - before[reason];
      if (n > 0) this.metrics.dropped.labels(reason).inc(n);
    }
    this.reportedDrops.set(head, { ...head.dropped });
  }
}

/** The message of a dead letter for samples that could not be placed. */
function refusedSamples(
  tooOld: number,
  tooFarFuture: number,
  head: PartitionHead,
  recordTime: number,
  rules: PlacementRules,
): string {
  const parts: string[] = [];
  if (tooOld > 0)
    parts.push(
      `${tooOld} samples before ${new Date(head.boundary).toISOString()}, where the partition's blocks are cut`,
    );
  if (tooFarFuture > 0)
    parts.push(
      `${tooFarFuture} samples more than ${rules.futureGrace} ms past the record's time ${new Date(recordTime).toISOString()}`,
    );
  return `samples that cannot be placed: ${parts.join('; ')}`;
}
