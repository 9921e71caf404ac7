import type { DurabilityProbe } from '../../src/log/durability-probe.js';

interface Write {
  seq: number;
  fd: number;
  log: string;
  from: number;
  to: number;
  dsync: boolean;
}

/**
 * Records what the broker's durability probe is told, in order, and checks
 * every acks=all answer against it: each acknowledged offset must have been
 * written before the answer, either through an O_DSYNC descriptor or
 * followed by an fdatasync/fsync of the same descriptor that started after
 * the write completed and finished before the answer.
 */
export class DurabilityOrder implements DurabilityProbe {
  private seq = 0;
  private readonly writes: Write[] = [];
  private readonly pendingSyncs = new Map<number, number[]>();
  private readonly syncs: { fd: number; start: number; done: number }[] = [];
  /** Each acks=all range answered before its bytes were durable. */
  readonly violations: string[] = [];
  /** acks=all ranges checked, and how each was made durable. */
  readonly checked = { answers: 0, ranges: 0, byDsync: 0, bySync: 0 };

  written(w: { fd: number; log: string; from: number; to: number; dsync: boolean }): void {
    this.writes.push({ seq: ++this.seq, ...w });
  }

  synced(fd: number, phase: 'start' | 'done'): void {
    const seq = ++this.seq;
    const pending = this.pendingSyncs.get(fd) ?? [];
    if (phase === 'start') {
      pending.push(seq);
      this.pendingSyncs.set(fd, pending);
      return;
    }
    // The oldest start: a sync that finished covers at least what that one did.
    const start = pending.shift();
    if (start === undefined) throw new Error(`sync of fd ${fd} finished without a start`);
    this.syncs.push({ fd, start, done: seq });
  }

  answered(acks: number, ranges: ReadonlyArray<{ log: string; from: number; to: number }>): void {
    const at = ++this.seq;
    if (acks !== -1) return;
    this.checked.answers++;
    for (const r of ranges) {
      this.checked.ranges++;
      // The writes of this range that were durable when the answer went out.
      let bySync = false;
      const durable = this.writes
        .filter((w) => w.log === r.log && w.from < r.to && w.to > r.from && w.seq < at)
        .filter((w) => {
          if (w.dsync) return true;
          const synced = this.syncs.some((s) => s.fd === w.fd && s.start > w.seq && s.done < at);
          bySync ||= synced;
          return synced;
        })
        .sort((a, b) => a.from - b.from);
      let covered = r.from;
      for (const w of durable) if (w.from <= covered) covered = Math.max(covered, w.to);
      if (covered < r.to) {
        this.violations.push(
          `acks=all answer for ${r.log} offsets [${r.from}, ${r.to}) went out before offsets [${covered}, ${r.to}) were durable`,
        );
      } else if (bySync) this.checked.bySync++;
      else this.checked.byDsync++;
    }
  }
}
