/**
 * Where the samples of one log partition go, decided from the log alone.
 * The block builder and the query head both place samples with this module,
 * so they agree on which samples blocks will hold: the head serves exactly
 * what the blocks will hold and do not hold yet. The rules are written out in
 * stream-processors/src/block-builder/FORMAT.md.
 *
 * The clock of a partition is the newest record timestamp read from it (the
 * time the producer, the gateway or the agent, put on the record at ingest),
 * never a sample time: one tenant's or one series' sample times cannot move
 * it, so they cannot close another's ranges early or keep them open forever.
 */

/** The rules a partition's samples are placed by. */
export interface PlacementRules {
  /** Block duration, ms: ranges are `[k·D, (k+1)·D)`. */
  blockDuration: number;
  /** How long a live range stays open after the clock passed its end, ms. */
  outOfOrderWindow: number;
  /** How far past its record's timestamp a sample may be, ms (Mimir's creation grace period). */
  futureGrace: number;
  /** How long (log time) a backfill range stays open after the last record that added to it, ms. */
  backfillIdle: number;
}

/** Mimir's default creation grace period: ten minutes. */
export const DEFAULT_FUTURE_GRACE = 600_000;

/** The least log time a backfill range stays open after its last sample: one minute. */
export const MIN_BACKFILL_IDLE = 60_000;

/** The backfill idle time for an out-of-order window: the window, but at least a minute. */
export function defaultBackfillIdle(outOfOrderWindow: number): number {
  return Math.max(outOfOrderWindow, MIN_BACKFILL_IDLE);
}

/** What happens to one sample. Numbers, so the per-sample path allocates nothing. */
export const Placement = {
  /** Goes into the live range of its time. */
  Live: 0,
  /** Goes into an open backfill range of its tenant and time. */
  Backfill: 1,
  /** Older than the live ranges still open: their blocks are cut (or were before a restart). */
  TooOld: 2,
  /** Further ahead of its record's timestamp than the grace period. */
  TooFarFuture: 3,
} as const;

/** One of the Placement values. */
export type Placement = (typeof Placement)[keyof typeof Placement];

/** The start (inclusive) of the aligned range that holds time t. */
export function alignedStart(t: number, duration: number): number {
  return Math.floor(t / duration) * duration;
}

/** Checks rules given from outside (flags, a state file); throws RangeError naming the bad one. */
export function checkPlacementRules(rules: PlacementRules): PlacementRules {
  const { blockDuration, outOfOrderWindow, futureGrace, backfillIdle } = rules;
  if (!Number.isSafeInteger(blockDuration) || blockDuration < 1000)
    throw new RangeError(`block duration must be a whole number of ms, at least 1s, got ${blockDuration}`);
  if (!Number.isSafeInteger(outOfOrderWindow) || outOfOrderWindow < 0)
    throw new RangeError(`out-of-order window must be a whole number of ms >= 0, got ${outOfOrderWindow}`);
  if (!Number.isSafeInteger(futureGrace) || futureGrace < 0)
    throw new RangeError(`future grace must be a whole number of ms >= 0, got ${futureGrace}`);
  if (!Number.isSafeInteger(backfillIdle) || backfillIdle < 1)
    throw new RangeError(`backfill idle time must be a whole number of ms >= 1, got ${backfillIdle}`);
  return rules;
}

/**
 * A partition's clock and the verdicts that depend on it. Feed it every
 * record in offset order (`advance`), then ask where each of the record's
 * samples goes (`place`). Restored from a partition state, it continues
 * exactly where the run that saved the state was at that offset.
 */
export class PartitionClock {
  /** The newest record timestamp read, ms; -Infinity before the first. */
  clock: number;
  private recordTime = Number.NEGATIVE_INFINITY;
  private backfill = false;
  private liveFloor = Number.NEGATIVE_INFINITY;

  /**
   * @param rules the placement rules
   * @param restored the clock before the first record to be read, and the
   *   boundary live ranges below which are already cut (from the state)
   */
  constructor(
    readonly rules: PlacementRules,
    restored: { clock: number; boundary: number } = {
      clock: Number.NEGATIVE_INFINITY,
      boundary: Number.NEGATIVE_INFINITY,
    },
  ) {
    this.clock = restored.clock;
    this.liveFloor = Math.max(restored.boundary, this.cutPoint());
  }

  /**
   * Reads the next record's timestamp and whether it is a backfill record.
   * Returns the clock as it was before this record.
   */
  advance(recordTime: number, backfill: boolean): number {
    const before = this.clock;
    // A record without a timestamp (-1, older message formats) is taken to be at the clock;
    // before any clock, nothing it holds counts as in the future.
    if (!(recordTime >= 0)) recordTime = Number.isFinite(this.clock) ? this.clock : Number.POSITIVE_INFINITY;
    if (recordTime > this.clock && Number.isFinite(recordTime)) {
      this.clock = recordTime;
      const cut = this.cutPoint();
      if (cut > this.liveFloor) this.liveFloor = cut;
    }
    this.recordTime = recordTime;
    this.backfill = backfill;
    return before;
  }

  /**
   * The start of the oldest live range still open: every range that ends at
   * or before `clock - outOfOrderWindow` is closed.
   */
  cutPoint(): number {
    return alignedStart(this.clock - this.rules.outOfOrderWindow, this.rules.blockDuration);
  }

  /** Live samples before this time cannot be placed: the restored boundary or the cut point, whichever is later. */
  floor(): number {
    return this.liveFloor;
  }

  /** Where a sample of the current record goes. */
  place(t: number): Placement {
    if (t > this.recordTime + this.rules.futureGrace) return Placement.TooFarFuture;
    if (this.backfill) return Placement.Backfill;
    return t < this.liveFloor ? Placement.TooOld : Placement.Live;
  }

  /** Whether a backfill range last added to when the clock read `touched` is closed now. */
  backfillClosed(touched: number): boolean {
    return this.clock >= touched + this.rules.backfillIdle;
  }
}
