import type { Labels } from '@promstream/storage';

/**
 * The seams of the rollup processor (README.md): where its snapshots live,
 * how its output samples become derived records, and the fault points crash
 * tests arm. Records are read through `RecordDecoder` (the block builder's
 * seam) and written through `@promstream/log`.
 */

/** The two stages of a rollup. */
export type RollupStage = 'aggregate' | 'combine';

/** One stage's state of one partition, and the offset it is the state before. */
export interface StageSnapshot {
  /** The next offset to read: the state covers every record before it. */
  next: number;
  /** The hash of the rules the state was built with; another hash means the state is not used. */
  rules: string;
  state: unknown;
}

/** Keeps the stages' snapshots, so a restart resumes from the last one. */
export interface RollupStateStore {
  load(stage: RollupStage, partition: number): Promise<StageSnapshot | undefined>;
  save(stage: RollupStage, partition: number, snapshot: StageSnapshot): Promise<void>;
}

/** One output sample with its time. */
export interface DerivedSample {
  labels: Labels;
  t: number;
  v: number;
}

/** Turns output samples of one tenant into a record value for the derived topic. */
export interface DerivedEncoder {
  encode(tenant: string, producedAt: number, samples: readonly DerivedSample[]): Promise<Buffer>;
}

/**
 * The moments where a crash can break exactly-once:
 * - `after-output`: a stage's output is on the log, its snapshot not yet saved;
 * - `after-state`: the snapshot is saved, the offset not yet committed;
 * - `mid-batch`: a batch is read and aggregated in memory, nothing written.
 */
export const ROLLUP_FAULT_POINTS = ['after-output', 'after-state', 'mid-batch'] as const;

/** One of ROLLUP_FAULT_POINTS. */
export type RollupFaultPoint = (typeof ROLLUP_FAULT_POINTS)[number];

/** Told each time a stage passes a fault point; crash tests arm one that ends the process. */
export interface RollupFaults {
  reached(point: RollupFaultPoint, detail: { stage: RollupStage; partition: number }): void;
}
