import type { ConsumedRecord, LogBatch, LogConsumer, LogProducer, LogRecord } from '@promstream/log';
import type { Logger } from 'pino';
import type { RollupMetrics } from './metrics.js';
import type { RollupFaults, RollupStage, RollupStateStore } from './seams.js';

/**
 * Runs one stage of a rollup over a consumer: a deterministic state machine
 * per partition, made exactly-once by the block builder's construction —
 * deterministic output, written; then the state saved; then the offset
 * committed. A crash between any two steps restarts the partition from its
 * last snapshot, which reads the same records again and writes the same
 * records again (the reader ignores the repeats, README "Exactly once").
 */

/** A stage's state machine for one partition. */
export interface StageMachine {
  /** Handles one record; returns the records it produces. */
  feed(record: ConsumedRecord): Promise<LogRecord[]>;
  snapshot(): unknown;
  restore(state: unknown): void;
}

/** What a stage runner needs. */
export interface StageRunnerOptions {
  stage: RollupStage;
  consumer: LogConsumer;
  producer: LogProducer;
  /** The topic the stage writes to. */
  output: string;
  store: RollupStateStore;
  /** Identifies the rules; a snapshot built with other rules is not restored. */
  rulesHash: string;
  create(partition: number): StageMachine;
  logger: Logger;
  metrics: RollupMetrics;
  faults?: RollupFaults;
}

interface Running {
  machine: StageMachine;
  /** The next offset to feed. */
  next: number;
  /** The offset of the last saved snapshot: where the partition resumes after a failure. */
  saved: number;
}

/** Runs a stage; the returned `reset` drops every partition's state (the group reassigned them). */
export class StageRunner {
  private readonly parts = new Map<number, Running>();

  constructor(private readonly o: StageRunnerOptions) {}

  /** Forgets in-memory state: the next batch of each partition reloads its snapshot. */
  reset(): void {
    this.parts.clear();
  }

  /** The batch handler to give the consumer. */
  readonly handle = async (batch: LogBatch): Promise<void> => {
    const { partition } = batch;
    let run: Running | undefined;
    try {
      run = await this.load(batch);
      if (run === undefined) return;
      const out: LogRecord[] = [];
      for (const r of batch.records) {
        if (r.offset < run.next) continue;
        for (const rec of await run.machine.feed(r)) out.push(rec);
      }
      // A batch read again after a restart may end before the snapshot: never move back.
      run.next = Math.max(run.next, batch.nextOffset);
      this.o.faults?.reached('mid-batch', { stage: this.o.stage, partition });
      if (!batch.active()) {
        this.parts.delete(partition);
        return;
      }
      if (out.length > 0) await this.persist(partition, run, out);
    } catch (err) {
      // The in-memory state may be past what is saved: resume from the snapshot.
      this.parts.delete(partition);
      if (run !== undefined) this.o.consumer.seek(partition, run.saved);
      throw err;
    }
  };

  private async load(batch: LogBatch): Promise<Running | undefined> {
    const known = this.parts.get(batch.partition);
    if (known !== undefined) return known;
    const snap = await this.o.store.load(this.o.stage, batch.partition);
    const machine = this.o.create(batch.partition);
    const first = batch.records[0]?.offset ?? batch.nextOffset;
    if (snap !== undefined && snap.rules === this.o.rulesHash) machine.restore(snap.state);
    else if (snap !== undefined)
      this.o.logger.warn(
        { stage: this.o.stage, partition: batch.partition },
        'rollup rules changed since the last snapshot: the partition starts with an empty state',
      );
    const next = snap?.next ?? first;
    const run: Running = { machine, next, saved: next };
    this.parts.set(batch.partition, run);
    if (first > next) {
      // The group's offset is past the snapshot: read from the snapshot instead.
      this.o.consumer.seek(batch.partition, next);
      return undefined;
    }
    return run;
  }

  private async persist(partition: number, run: Running, out: LogRecord[]): Promise<void> {
    const { stage } = this.o;
    await this.o.producer.send(this.o.output, out);
    this.o.faults?.reached('after-output', { stage, partition });
    await this.o.store.save(stage, partition, {
      next: run.next,
      rules: this.o.rulesHash,
      state: run.machine.snapshot(),
    });
    run.saved = run.next;
    this.o.metrics.snapshots.inc({ stage });
    this.o.faults?.reached('after-state', { stage, partition });
    await this.o.consumer.commit(partition, run.next);
    this.o.metrics.committed.set({ stage, partition: String(partition) }, run.next);
  }
}
