import type { FloatHistogram, HistogramSpan } from '@promstream/storage';
import { IngestError, IngestErrorCode } from '../errors.js';

/**
 * The protobuf text of the native histogram message. Both wire versions use
 * the same field numbers; each version file places it in its own package.
 */
export const histogramProto = `
message BucketSpan {
  sint32 offset = 1;
  uint32 length = 2;
}
message Histogram {
  enum ResetHint { UNKNOWN = 0; YES = 1; NO = 2; GAUGE = 3; }
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3;
  sint32 schema = 4;
  double zero_threshold = 5;
  oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
  repeated BucketSpan negative_spans = 8;
  repeated sint64 negative_deltas = 9;
  repeated double negative_counts = 10;
  repeated BucketSpan positive_spans = 11;
  repeated sint64 positive_deltas = 12;
  repeated double positive_counts = 13;
  ResetHint reset_hint = 14;
  int64 timestamp = 15;
  repeated double custom_values = 16;
}
`;

/** A 64-bit integer as protobufjs hands it out: a number or a Long. */
export type Int64 = number | { toNumber(): number };

/** Converts a protobufjs 64-bit integer to a number (exact up to 2^53). */
export function int64(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** The decoded protobuf histogram message, as protobufjs gives it. */
export interface HistogramMessage {
  /** Which field of the `count` oneof is set (protobufjs' virtual oneof property). */
  count?: string;
  /** Which field of the `zero_count` oneof is set. */
  zero_count?: string;
  count_int?: Int64 | null;
  count_float?: number | null;
  sum?: number;
  schema?: number;
  zero_threshold?: number;
  zero_count_int?: Int64 | null;
  zero_count_float?: number | null;
  negative_spans?: { offset?: number; length?: number }[];
  negative_deltas?: Int64[];
  negative_counts?: number[];
  positive_spans?: { offset?: number; length?: number }[];
  positive_deltas?: Int64[];
  positive_counts?: number[];
  reset_hint?: number;
  timestamp?: Int64;
  custom_values?: number[];
}

function spans(list: { offset?: number; length?: number }[] | undefined): HistogramSpan[] {
  return (list ?? []).map((s) => ({ offset: s.offset ?? 0, length: s.length ?? 0 }));
}

function spanTotal(list: HistogramSpan[]): number {
  let n = 0;
  for (const s of list) n += s.length;
  return n;
}

// Integer histograms carry bucket counts as deltas to the previous bucket.
function undelta(deltas: Int64[]): number[] {
  const out = new Array<number>(deltas.length);
  let acc = 0;
  for (let i = 0; i < deltas.length; i++) {
    acc += int64(deltas[i]);
    out[i] = acc;
  }
  return out;
}

/**
 * Converts a histogram message into the shared FloatHistogram form with
 * absolute bucket counts. Throws a malformed_request error when the spans
 * and buckets disagree, since a series with such a histogram cannot be stored.
 */
export function histogramFromMessage(m: HistogramMessage): {
  timestamp: number;
  histogram: FloatHistogram;
  integer: boolean;
} {
  // protobufjs reports the set member of a oneof by name; the other member
  // reads as its default, so only that name tells integer from float counts.
  const integer =
    m.count !== 'count_float' &&
    (m.positive_counts ?? []).length === 0 &&
    (m.negative_counts ?? []).length === 0;
  const positiveSpans = spans(m.positive_spans);
  const negativeSpans = spans(m.negative_spans);
  const positiveBuckets = integer ? undelta(m.positive_deltas ?? []) : [...(m.positive_counts ?? [])];
  const negativeBuckets = integer ? undelta(m.negative_deltas ?? []) : [...(m.negative_counts ?? [])];
  if (
    spanTotal(positiveSpans) !== positiveBuckets.length ||
    spanTotal(negativeSpans) !== negativeBuckets.length
  ) {
    throw new IngestError(
      IngestErrorCode.MalformedRequest,
      'native histogram: the bucket spans do not add up to the number of buckets',
    );
  }
  return {
    timestamp: int64(m.timestamp),
    integer,
    histogram: {
      counterResetHint: m.reset_hint ?? 0,
      schema: m.schema ?? 0,
      zeroThreshold: m.zero_threshold ?? 0,
      zeroCount: m.zero_count === 'zero_count_float' ? (m.zero_count_float ?? 0) : int64(m.zero_count_int),
      count: integer ? int64(m.count_int) : (m.count_float ?? 0),
      sum: m.sum ?? 0,
      positiveSpans,
      negativeSpans,
      positiveBuckets,
      negativeBuckets,
      customValues: [...(m.custom_values ?? [])],
    },
  };
}

/** Converts a FloatHistogram back into a message (float counts), for senders and tests. */
export function histogramToMessage(timestamp: number, h: FloatHistogram): HistogramMessage {
  return {
    count_float: h.count,
    sum: h.sum,
    schema: h.schema,
    zero_threshold: h.zeroThreshold,
    zero_count_float: h.zeroCount,
    negative_spans: h.negativeSpans.map((s) => ({ offset: s.offset, length: s.length })),
    negative_counts: h.negativeBuckets,
    positive_spans: h.positiveSpans.map((s) => ({ offset: s.offset, length: s.length })),
    positive_counts: h.positiveBuckets,
    reset_hint: h.counterResetHint,
    timestamp,
    custom_values: h.customValues,
  };
}
