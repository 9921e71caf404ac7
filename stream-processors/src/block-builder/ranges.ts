/**
 * Block ranges are aligned on multiples of the block duration from the Unix
 * epoch, as Prometheus aligns its head compaction, so every builder and every
 * replay cuts the same ranges from the same samples.
 */

/** The start (inclusive) of the aligned range that holds time t. */
export function rangeStart(t: number, duration: number): number {
  return Math.floor(t / duration) * duration;
}

/** Parses a duration such as `2h`, `15m`, `30s`, `500ms` or a plain number of milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (m === null) throw new RangeError(`not a duration: ${JSON.stringify(text)} (use e.g. 2h, 15m, 30s)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit] ?? 1;
  return Math.round(n * factor);
}
