/**
 * A test seam on the broker's write path. The broker tells it, in the order
 * things happen: when produced bytes were written to a descriptor (and
 * whether that descriptor is O_DSYNC, so the write itself put them on disk),
 * when an fdatasync or fsync of a descriptor starts and when it has
 * completed, and when a produce answer is about to go out with the offset
 * ranges it acknowledges. From these a test can tell whether an acks=all
 * answer ever ran ahead of the disk, which a SIGKILL test cannot (the page
 * cache outlives the process). The broker runs without one; calls are made
 * only when one is given, so the write path allocates nothing for it.
 */
export interface DurabilityProbe {
  /** Offsets [from, to) of the partition log in directory `log` were written to `fd`. */
  written(w: { fd: number; log: string; from: number; to: number; dsync: boolean }): void;
  /** An fdatasync or fsync of `fd` is about to start, or has completed without error. */
  synced(fd: number, phase: 'start' | 'done'): void;
  /** A produce answer with `acks` is about to be sent; it acknowledges these ranges as stored. */
  answered(acks: number, ranges: ReadonlyArray<{ log: string; from: number; to: number }>): void;
}
