import { KafkaCode } from './errors.js';

/** The outcome of checking an idempotent batch against what the partition has seen. */
export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; baseOffset: number }
  | { kind: 'reject'; code: number };

interface Entry {
  epoch: number;
  /** The last few batches, newest last, to answer retries of any of them. */
  batches: Array<{ firstSeq: number; lastSeq: number; baseOffset: number }>;
}

/** Kafka keeps the last five batches per producer: the most a client may have in flight. */
const KEEP = 5;

/**
 * Idempotent-producer state of one partition: per producer id, the epoch
 * and the sequence numbers of the last batches. A retry of a batch already
 * written is answered with its original offset; a gap or reordering is
 * rejected with OUT_OF_ORDER_SEQUENCE_NUMBER; an old epoch with
 * INVALID_PRODUCER_EPOCH.
 */
export class ProducerStates {
  private readonly byId = new Map<bigint, Entry>();

  /** Every producer with its state, for snapshots. */
  entries(): Array<[bigint, Entry]> {
    return [...this.byId.entries()];
  }

  check(producerId: bigint, epoch: number, baseSeq: number, recordCount: number): SequenceCheck {
    if (producerId < 0n) return { kind: 'append' };
    const e = this.byId.get(producerId);
    // Unknown producer (new, or its state lay in segments before the scanned one): accept.
    if (e === undefined) return { kind: 'append' };
    if (epoch < e.epoch) return { kind: 'reject', code: KafkaCode.INVALID_PRODUCER_EPOCH };
    if (epoch > e.epoch) {
      return baseSeq === 0
        ? { kind: 'append' }
        : { kind: 'reject', code: KafkaCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
    }
    const lastSeq = lastSequence(baseSeq, recordCount);
    for (const b of e.batches) {
      if (b.firstSeq === baseSeq && b.lastSeq === lastSeq)
        return { kind: 'duplicate', baseOffset: b.baseOffset };
    }
    const last = e.batches[e.batches.length - 1];
    if (last !== undefined && baseSeq !== nextSequence(last.lastSeq)) {
      return { kind: 'reject', code: KafkaCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
    }
    return { kind: 'append' };
  }

  /** Records a batch that was written (or found while scanning the log at start). */
  record(producerId: bigint, epoch: number, baseSeq: number, recordCount: number, baseOffset: number): void {
    if (producerId < 0n) return;
    let e = this.byId.get(producerId);
    if (e === undefined || e.epoch !== epoch) {
      e = { epoch, batches: [] };
      this.byId.set(producerId, e);
    }
    // A batch already known (a snapshot and the scan of the log both saw it) is kept once.
    if (e.batches.some((b) => b.baseOffset === baseOffset)) return;
    e.batches.push({ firstSeq: baseSeq, lastSeq: lastSequence(baseSeq, recordCount), baseOffset });
    if (e.batches.length > KEEP) e.batches.shift();
  }

  /**
   * Forgets the batches at `offset` and after: they were refused with a
   * failed write and never reached the log, so a retry of one is new.
   */
  forgetFrom(offset: number): void {
    for (const e of this.byId.values()) e.batches = e.batches.filter((b) => b.baseOffset < offset);
  }
}

/** The snapshot of producer states as stored in `producer-state.json`. */
export type ProducerSnapshot = Array<{
  id: string;
  epoch: number;
  batches: Array<{ firstSeq: number; lastSeq: number; baseOffset: number }>;
}>;

/** Serialises the states for a snapshot file. */
export function snapshotOf(states: ProducerStates): ProducerSnapshot {
  return states.entries().map(([id, e]) => ({ id: String(id), epoch: e.epoch, batches: e.batches }));
}

/** Rebuilds states from a snapshot. */
export function statesFrom(snapshot: ProducerSnapshot): ProducerStates {
  const s = new ProducerStates();
  for (const p of snapshot) {
    for (const b of p.batches)
      s.record(BigInt(p.id), p.epoch, b.firstSeq, b.lastSeq - b.firstSeq + 1, b.baseOffset);
  }
  return s;
}

/** Sequences wrap from int32 max to 0. */
function lastSequence(baseSeq: number, count: number): number {
  return (baseSeq + count - 1) % 0x80000000;
}

function nextSequence(seq: number): number {
  return seq === 0x7fffffff ? 0 : seq + 1;
}
