import { IngestError, IngestErrorCode } from '../errors.js';
import type { ShapeLimits } from './shape.js';
import type { WriteRequest, WriteSeries } from './types.js';

/**
 * Limits a write request must keep; each breach is a 400 with the reason,
 * except a body over `maxDecompressedBytes`, which is a 413. The shape
 * limits are checked before the request is decoded (see shape.ts), so they
 * also bound what decoding a hostile request can allocate.
 */
export interface ValidationLimits extends ShapeLimits {
  maxLabelNameLength: number;
  maxLabelValueLength: number;
}

/** Limits in the range Mimir and Cortex use by default. */
export const defaultLimits: ValidationLimits = {
  // Mimir's -distributor.max-recv-msg-size.
  maxDecompressedBytes: 100 * 1024 * 1024,
  maxLabelsPerSeries: 30,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 2048,
  maxSamplesPerRequest: 1_000_000,
  maxSeriesPerRequest: 200_000,
  // A Prometheus shard sends a few thousand histograms of up to 160 buckets.
  maxHistogramBucketsPerRequest: 1_000_000,
  maxExemplarsPerRequest: 1_000_000,
  // 2.0 only: the distinct label names and values of the request.
  maxSymbolsPerRequest: 1_000_000,
};

// Prometheus' legacy name rules: metric names may hold colons, label names not.
const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const metricNamePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A series as the answers name it: its metric name and its first labels, long values cut. */
export function describeSeries(s: WriteSeries): string {
  const name = s.labels.find((l) => l.name === '__name__')?.value;
  const shown = s.labels
    .slice(0, 6)
    .map((l) => `${l.name}=${JSON.stringify(l.value.length > 64 ? `${l.value.slice(0, 64)}...` : l.value)}`)
    .join(', ');
  return `series ${name ?? '(no name)'}{${shown}${s.labels.length > 6 ? ', ...' : ''}}`;
}

function invalid(s: WriteSeries, reason: string): IngestError {
  return new IngestError(IngestErrorCode.InvalidSeries, `${describeSeries(s)}: ${reason}`);
}

// A lone surrogate means the value is not valid UTF-8 once encoded.
function isWellFormed(v: string): boolean {
  return (v as string & { isWellFormed?: () => boolean }).isWellFormed?.() ?? true;
}

/**
 * Label names and metric names that passed the syntax check, so a request of
 * thousands of series with the same few names tests each regex once. Two
 * sets, because a valid metric name (colons allowed) need not be a valid
 * label name.
 */
export interface KnownNames {
  labelNames: Set<string>;
  metricNames: Set<string>;
}

/** An empty KnownNames. */
export function knownNames(): KnownNames {
  return { labelNames: new Set(), metricNames: new Set() };
}

/**
 * Checks one series: label syntax, order, duplicates, limits, sample order
 * within the series. `known` carries the names already checked from one
 * series to the next.
 */
export function validateSeries(s: WriteSeries, limits: ValidationLimits, known = knownNames()): void {
  if (s.labels.length === 0) throw invalid(s, 'the series has no labels');
  if (s.labels.length > limits.maxLabelsPerSeries) {
    throw invalid(s, `${s.labels.length} labels exceed the limit of ${limits.maxLabelsPerSeries}`);
  }
  let hasName = false;
  for (let i = 0; i < s.labels.length; i++) {
    const l = s.labels[i]!;
    if (i > 0) {
      const prev = s.labels[i - 1]!.name;
      if (prev === l.name) throw invalid(s, `duplicate label name ${JSON.stringify(l.name)}`);
      if (prev > l.name) throw invalid(s, `labels are not sorted by name (${prev} before ${l.name})`);
    }
    if (l.name === '__name__') {
      hasName = true;
      if (!known.metricNames.has(l.value)) {
        if (!metricNamePattern.test(l.value))
          throw invalid(s, `invalid metric name ${JSON.stringify(l.value)}`);
        known.metricNames.add(l.value);
      }
    } else if (!known.labelNames.has(l.name)) {
      if (!labelNamePattern.test(l.name)) throw invalid(s, `invalid label name ${JSON.stringify(l.name)}`);
      known.labelNames.add(l.name);
    }
    if (l.value === '') throw invalid(s, `label ${l.name} has an empty value`);
    if (l.name.length > limits.maxLabelNameLength) {
      throw invalid(s, `label name longer than ${limits.maxLabelNameLength} characters`);
    }
    if (l.value.length > limits.maxLabelValueLength) {
      throw invalid(s, `value of label ${l.name} longer than ${limits.maxLabelValueLength} characters`);
    }
    if (!isWellFormed(l.value)) throw invalid(s, `value of label ${l.name} is not valid UTF-8`);
  }
  if (!hasName) throw invalid(s, 'the series has no metric name (__name__)');
  for (let i = 1; i < s.timestamps.length; i++) {
    if (s.timestamps[i]! <= s.timestamps[i - 1]!) {
      throw invalid(s, `samples out of order or duplicated at timestamp ${s.timestamps[i]}`);
    }
  }
  for (let i = 1; i < s.histograms.length; i++) {
    if (s.histograms[i]!.timestamp <= s.histograms[i - 1]!.timestamp) {
      throw invalid(s, `histogram samples out of order at timestamp ${s.histograms[i]!.timestamp}`);
    }
  }
}

/** Checks a whole request; throws the first problem found as an IngestError. */
export function validateRequest(req: WriteRequest, limits: ValidationLimits = defaultLimits): void {
  if (req.series.length > limits.maxSeriesPerRequest) {
    throw new IngestError(
      IngestErrorCode.LimitExceeded,
      `${req.series.length} series in one request exceed the limit of ${limits.maxSeriesPerRequest}`,
    );
  }
  if (req.samples + req.histograms > limits.maxSamplesPerRequest) {
    throw new IngestError(
      IngestErrorCode.LimitExceeded,
      `${req.samples + req.histograms} samples in one request exceed the limit of ${limits.maxSamplesPerRequest}`,
    );
  }
  const known = knownNames();
  for (const s of req.series) validateSeries(s, limits, known);
}
