import type { HistogramSample } from '@promstream/schemas';
import type { Label } from '@promstream/storage';

/** A native histogram sample as a remote-write request carries it: the log record's `HistogramSample`. */
export type { HistogramSample };

/** One series of a decoded write request, in the same shape for both wire versions. */
export interface WriteSeries {
  /** Labels as sent (validation checks their order and syntax); read-only, series of one request may share Label objects. */
  labels: Label[];
  /** Sample timestamps in ms, parallel to `values`. */
  timestamps: number[];
  values: number[];
  histograms: HistogramSample[];
  /** How many exemplars the series carried (kept for the written-count headers). */
  exemplars: number;
}

/** A decoded remote-write request. */
export interface WriteRequest {
  series: WriteSeries[];
  samples: number;
  histograms: number;
  exemplars: number;
}

/** Totals a request over its series. */
export function countRequest(series: WriteSeries[]): WriteRequest {
  let samples = 0;
  let histograms = 0;
  let exemplars = 0;
  for (const s of series) {
    samples += s.values.length;
    histograms += s.histograms.length;
    exemplars += s.exemplars;
  }
  return { series, samples, histograms, exemplars };
}
