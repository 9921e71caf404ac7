/**
 * Block ranges are aligned on multiples of the block duration from the Unix
 * epoch, as Prometheus aligns its head compaction, so every builder and every
 * replay cuts the same ranges from the same samples.
 */

/** The start (inclusive) of the aligned range that holds time t. */
export function rangeStart(t: number, duration: number): number {
  return Math.floor(t / duration) * duration;
}
