import type { FloatHistogram, Label } from '@promstream/storage';

/**
 * TypeScript shapes of the records in `../avro/*.avsc`, as avsc reads and
 * writes them: `long` is a number (ms timestamps stay far below 2^53),
 * `bytes` a Buffer, enums their symbol, maps plain objects. The test
 * `schemas.test.ts` checks these shapes against the schema files.
 */

/** How a SeriesChunk's samples are stored. */
export type ChunkEncoding = 'XOR' | 'HISTOGRAM' | 'FLOAT_HISTOGRAM';

/** A native histogram sample with its time. */
export interface HistogramSample {
  timestamp: number;
  /** Whether the source sent integer counts (a histogram) or float counts. */
  integer: boolean;
  histogram: FloatHistogram;
}

/** The new samples of one series. */
export interface SeriesChunk {
  /** Sorted by name, names unique. */
  labels: Label[];
  minTime: number;
  maxTime: number;
  encoding: ChunkEncoding;
  /** A Prometheus XOR chunk of the float samples, empty when there are none. */
  chunk: Buffer;
  histograms: HistogramSample[];
}

/**
 * `io.promstream.SampleColumns`: series with one float sample each, by
 * column (see `../docs/log-records.md`). Written by `SampleBatchBuilder`;
 * the serde expands it into `SampleBatch.series` on read.
 */
export interface SampleColumns {
  symbols: string[];
  labelCounts: number[];
  labelNames: number[];
  /** Column k: the value symbol of label k of every series with more than k labels. */
  labelValues: number[][];
  baseTime: number;
  timeDeltas: number[];
  /** k >= 0: value = next mantissa / 10^k; -1: next raw value. */
  valueScales: number[];
  mantissas: number[];
  rawValues: number[];
}

/** `io.promstream.SampleBatch`: the value of `promstream.samples.v1` and `promstream.derived.v1`. */
export interface SampleBatch {
  tenant: string;
  /** When the producer built the batch, ms. */
  producedAt: number;
  series: SeriesChunk[];
  /**
   * One-sample series by column (schema version 2). Readers never see it
   * set: the serde moves these series into `series` when it reads a record.
   */
  columns?: SampleColumns | null;
}

/** Where an event came from. */
export type EventSource = 'kernel' | 'os' | 'hardware' | 'app';

/** How bad an event is, syslog-like. */
export type Severity = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical';

/** `io.promstream.Event`: the value of `promstream.events.v1`, keyed by host. */
export interface Event {
  /** ms since the epoch. */
  time: number;
  host: string;
  source: EventSource;
  /** What happened, e.g. `oom_kill`, `segfault`, `link_down`. */
  kind: string;
  severity: Severity;
  message: string;
  attributes: Record<string, string>;
}

/** `io.promstream.Anomaly`: the value of `promstream.anomalies.v1`, keyed by series hash. */
export interface Anomaly {
  tenant: string;
  labels: Label[];
  time: number;
  value: number;
  expected: number;
  score: number;
  model: string;
}
