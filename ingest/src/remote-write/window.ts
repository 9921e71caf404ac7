import type { WriteRequest, WriteSeries } from './types.js';
import { countRequest } from './types.js';

/**
 * How far from now a tenant's sample timestamps may lie. Samples outside
 * are refused at the edge, as Prometheus and Mimir refuse them: older than
 * `pastMs` is "out of bounds" (the block builder could no longer place
 * them: `pastMs` defaults to its out-of-order window), newer than now plus
 * `futureMs` is "too far in the future" (Mimir's creation_grace_period).
 * Both bounds are also clamped to ±(2^53 - 1) ms, the timestamps a number
 * holds exactly, so a timestamp near int64's limits is always refused.
 */
export interface SampleWindow {
  pastMs: number;
  futureMs: number;
}

/** Ten minutes each way: the block builder's default out-of-order window and Mimir's default grace period. */
export const defaultWindow: SampleWindow = { pastMs: 600_000, futureMs: 600_000 };

/** The samples of one request refused for one reason. */
export interface RefusedSamples {
  /** Float and histogram samples refused. */
  count: number;
  /** The bound they broke, in ms since the epoch. */
  bound: number;
  /** The first one found, to name in the answer. */
  series: WriteSeries;
  timestamp: number;
}

/** A request split by the window: what may go to the log and what is refused. */
export interface WindowedRequest {
  kept: WriteRequest;
  tooOld?: RefusedSamples;
  tooNew?: RefusedSamples;
}

const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/**
 * Splits a request by the window around `now`. Allocates nothing when every
 * sample is inside (the usual case): the request itself is kept. Otherwise
 * series are copied with only their samples inside, and series left empty
 * are dropped.
 */
export function applyWindow(req: WriteRequest, now: number, window: SampleWindow): WindowedRequest {
  const min = Math.max(now - window.pastMs, -MAX_EXACT);
  const max = Math.min(now + window.futureMs, MAX_EXACT);
  const inside = (t: number) => t >= min && t <= max;
  let firstBad = -1;
  for (let i = 0; i < req.series.length && firstBad < 0; i++) {
    const s = req.series[i]!;
    for (const t of s.timestamps) if (!inside(t)) firstBad = i;
    for (const h of s.histograms) if (!inside(h.timestamp)) firstBad = i;
  }
  if (firstBad < 0) return { kept: req };
  const out: WindowedRequest = { kept: req };
  const refuse = (s: WriteSeries, t: number) => {
    const old = t < min;
    const key = old ? 'tooOld' : 'tooNew';
    const known = out[key];
    if (known === undefined) out[key] = { count: 1, bound: old ? min : max, series: s, timestamp: t };
    else known.count++;
  };
  const kept: WriteSeries[] = req.series.slice(0, firstBad);
  for (let i = firstBad; i < req.series.length; i++) {
    const s = req.series[i]!;
    let bad = false;
    for (const t of s.timestamps) if (!inside(t)) bad = true;
    for (const h of s.histograms) if (!inside(h.timestamp)) bad = true;
    if (!bad) {
      kept.push(s);
      continue;
    }
    const timestamps: number[] = [];
    const values: number[] = [];
    for (let j = 0; j < s.timestamps.length; j++) {
      const t = s.timestamps[j]!;
      if (inside(t)) {
        timestamps.push(t);
        values.push(s.values[j]!);
      } else refuse(s, t);
    }
    const histograms = s.histograms.filter((h) => {
      if (inside(h.timestamp)) return true;
      refuse(s, h.timestamp);
      return false;
    });
    if (timestamps.length > 0 || histograms.length > 0)
      kept.push({ labels: s.labels, timestamps, values, histograms, exemplars: s.exemplars });
  }
  out.kept = countRequest(kept);
  return out;
}
