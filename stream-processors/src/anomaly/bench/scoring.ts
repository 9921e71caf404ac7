/**
 * NAB-style scoring of episodes against labelled windows (Lavin and Ahmad,
 * "Evaluating Real-time Anomaly Detection Algorithms - the Numenta Anomaly
 * Benchmark", ICMLA 2015). A window is found when an episode overlaps it;
 * an episode overlapping no window is a false positive. The NAB score uses
 * the standard profile: a found window earns the scaled sigmoid of where its
 * first alert falls (about 1 at the window's start, 0 at its end), a false
 * positive costs 0.11, a missed window costs 1; it is normalised so a
 * detector that never alerts scores 0 and a perfect one 100.
 */
import type { Episode } from '../episodes.js';
import type { GeneratedSeries } from './generators.js';

/** Counts summed over series. */
export interface Tally {
  windows: number;
  found: number;
  truePositives: number;
  falsePositives: number;
  seriesDays: number;
  nabRaw: number;
  /** Delay of each found window's first alert, in intervals. */
  delays: number[];
}

/** An empty tally. */
export function newTally(): Tally {
  return { windows: 0, found: 0, truePositives: 0, falsePositives: 0, seriesDays: 0, nabRaw: 0, delays: [] };
}

/** NAB's standard-profile false-positive weight. */
const NAB_FP_WEIGHT = 0.11;

/** Adds one series' episodes (from its evaluation period of `evalDays`) to `into`. */
export function scoreSeries(
  s: GeneratedSeries,
  episodes: readonly Episode[],
  evalDays: number,
  into: Tally,
): void {
  into.seriesDays += evalDays;
  const overlaps = (e: Episode, from: number, to: number) => e.start <= to && e.end >= from;
  for (const w of s.windows) {
    into.windows++;
    let first = Number.POSITIVE_INFINITY;
    for (const e of episodes)
      if (overlaps(e, w.start, w.windowEnd)) first = Math.min(first, Math.max(e.start, w.start));
    if (first === Number.POSITIVE_INFINITY) {
      into.nabRaw -= 1;
      continue;
    }
    into.found++;
    into.delays.push((first - w.start) / s.intervalMs);
    const y = (first - w.windowEnd) / Math.max(s.intervalMs, w.windowEnd - w.start);
    into.nabRaw += 2 / (1 + Math.exp(5 * y)) - 1;
  }
  for (const e of episodes) {
    if (s.windows.some((w) => overlaps(e, w.start, w.windowEnd))) into.truePositives++;
    else {
      into.falsePositives++;
      into.nabRaw -= NAB_FP_WEIGHT;
    }
  }
}

/** Precision, recall, F1, false positives per 1,000 series-days, NAB score and median delay of a tally. */
export interface Quality {
  precision: number;
  recall: number;
  f1: number;
  fpPer1000SeriesDays: number;
  nab: number;
  medianDelay: number;
}

/** The figures of a tally. Precision is 1 when nothing alerted; recall is 1 when nothing was to find. */
export function quality(t: Tally): Quality {
  const alerts = t.truePositives + t.falsePositives;
  const precision = alerts === 0 ? 1 : t.truePositives / alerts;
  const recall = t.windows === 0 ? 1 : t.found / t.windows;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const sorted = [...t.delays].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianDelay =
    sorted.length === 0
      ? Number.NaN
      : sorted.length % 2
        ? sorted[mid]!
        : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const nab = t.windows === 0 ? Number.NaN : (100 * (t.nabRaw + t.windows)) / (2 * t.windows);
  return {
    precision,
    recall,
    f1,
    fpPer1000SeriesDays: t.seriesDays === 0 ? 0 : (1000 * t.falsePositives) / t.seriesDays,
    nab,
    medianDelay,
  };
}
