/**
 * Prometheus remote write 1.0: a snappy-compressed `prometheus.WriteRequest`.
 *
 *   WriteRequest { repeated TimeSeries timeseries = 1; reserved 2;
 *                  repeated MetricMetadata metadata = 3; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2;
 *                  repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }
 *   Exemplar     { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
 *
 * Content-Type `application/x-protobuf` (optionally `;proto=prometheus.WriteRequest`),
 * Content-Encoding `snappy` (the block format, not the framed one).
 */
import type { Label } from '@promstream/storage';
import protobuf from 'protobufjs';
import { IngestError, IngestErrorCode } from '../errors.js';
import {
  type HistogramMessage,
  histogramFromMessage,
  histogramProto,
  histogramToMessage,
  type Int64,
  int64,
} from './histogram.js';
import { ProtoReader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './proto-reader.js';
import { countRequest, type HistogramSample, type WriteRequest, type WriteSeries } from './types.js';

const proto = `
syntax = "proto3";
package prometheus;
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
message Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
${histogramProto}
message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
  repeated Exemplar exemplars = 3;
  repeated Histogram histograms = 4;
}
message MetricMetadata {
  enum MetricType { UNKNOWN = 0; COUNTER = 1; GAUGE = 2; HISTOGRAM = 3; GAUGEHISTOGRAM = 4; SUMMARY = 5; INFO = 6; STATESET = 7; }
  MetricType type = 1;
  string metric_family_name = 2;
  string help = 4;
  string unit = 5;
}
message WriteRequest {
  repeated TimeSeries timeseries = 1;
  reserved 2;
  repeated MetricMetadata metadata = 3;
}
`;

const root = protobuf.parse(proto, { keepCase: true }).root;
const writeRequestType = root.lookupType('prometheus.WriteRequest');
const histogramType = root.lookupType('prometheus.Histogram');

/** The protobuf message name of remote write 1.0. */
export const V1_PROTO = 'prometheus.WriteRequest';

interface V1Message {
  timeseries?: {
    labels?: { name?: string; value?: string }[];
    samples?: { value?: number; timestamp?: Int64 }[];
    exemplars?: unknown[];
    histograms?: HistogramMessage[];
  }[];
}

/** Decodes an uncompressed 1.0 WriteRequest (hand-written reader; same result as `decodeV1Reference`). */
export function decodeV1(body: Uint8Array): WriteRequest {
  try {
    return countRequest(readWriteRequest(new ProtoReader(body)));
  } catch (cause) {
    if (cause instanceof IngestError) throw cause;
    throw new IngestError(
      IngestErrorCode.MalformedRequest,
      `decode prometheus.WriteRequest: ${(cause as Error).message}`,
      { cause },
    );
  }
}

function readWriteRequest(r: ProtoReader): WriteSeries[] {
  const series: WriteSeries[] = [];
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LEN)) {
      const end = r.delimitedEnd();
      series.push(readTimeSeries(r, end));
    } else {
      // Metadata (3) and anything unknown are skipped.
      r.skip(tag & 7, tag >>> 3);
    }
  }
  return series;
}

function readTimeSeries(r: ProtoReader, end: number): WriteSeries {
  const outerEnd = r.end;
  r.end = end;
  const labels: Label[] = [];
  const timestamps: number[] = [];
  const values: number[] = [];
  const histograms: HistogramSample[] = [];
  let exemplars = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | WIRE_LEN: {
        const e = r.delimitedEnd();
        labels.push(readLabel(r, e));
        break;
      }
      case (2 << 3) | WIRE_LEN: {
        const e = r.delimitedEnd();
        readSample(r, e, timestamps, values);
        break;
      }
      case (3 << 3) | WIRE_LEN:
        r.pos = r.delimitedEnd();
        exemplars++;
        break;
      case (4 << 3) | WIRE_LEN: {
        const e = r.delimitedEnd();
        const m = histogramType.decode(r.buf.subarray(r.pos, e)) as unknown as HistogramMessage;
        r.pos = e;
        histograms.push(histogramFromMessage(m));
        break;
      }
      default:
        r.skip(tag & 7, tag >>> 3);
    }
  }
  r.end = outerEnd;
  return { labels, timestamps, values, histograms, exemplars };
}

function readLabel(r: ProtoReader, end: number): Label {
  const outerEnd = r.end;
  r.end = end;
  let name = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LEN)) name = r.string();
    else if (tag === ((2 << 3) | WIRE_LEN)) value = r.string();
    else r.skip(tag & 7, tag >>> 3);
  }
  r.end = outerEnd;
  return { name, value };
}

function readSample(r: ProtoReader, end: number, timestamps: number[], values: number[]): void {
  const outerEnd = r.end;
  r.end = end;
  let value = 0;
  let timestamp = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_FIXED64)) value = r.double();
    else if (tag === ((2 << 3) | WIRE_VARINT)) timestamp = r.int64();
    else r.skip(tag & 7, tag >>> 3);
  }
  r.end = outerEnd;
  timestamps.push(timestamp);
  values.push(value);
}

/**
 * Decodes an uncompressed 1.0 WriteRequest with protobufjs: the reference the
 * hand-written `decodeV1` is tested against (and measured against in the benchmark).
 */
export function decodeV1Reference(body: Uint8Array): WriteRequest {
  let msg: V1Message;
  try {
    msg = writeRequestType.decode(body) as unknown as V1Message;
  } catch (cause) {
    throw new IngestError(
      IngestErrorCode.MalformedRequest,
      `decode prometheus.WriteRequest: ${(cause as Error).message}`,
      { cause },
    );
  }
  const series: WriteSeries[] = [];
  for (const ts of msg.timeseries ?? []) {
    const samples = ts.samples ?? [];
    const timestamps = new Array<number>(samples.length);
    const values = new Array<number>(samples.length);
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      timestamps[i] = int64(s.timestamp);
      values[i] = s.value ?? 0;
    }
    series.push({
      labels: (ts.labels ?? []).map((l) => ({ name: l.name ?? '', value: l.value ?? '' })),
      timestamps,
      values,
      histograms: (ts.histograms ?? []).map(histogramFromMessage),
      exemplars: ts.exemplars?.length ?? 0,
    });
  }
  return countRequest(series);
}

/** Encodes series as an uncompressed 1.0 WriteRequest (for senders, tests and benchmarks). */
export function encodeV1(series: readonly WriteSeries[]): Uint8Array {
  const message = {
    timeseries: series.map((s) => ({
      labels: s.labels.map((l) => ({ name: l.name, value: l.value })),
      samples: s.values.map((value, i) => ({ value, timestamp: s.timestamps[i] })),
      histograms: s.histograms.map((h) => histogramToMessage(h.timestamp, h.histogram)),
    })),
  };
  return writeRequestType.encode(writeRequestType.fromObject(message)).finish();
}
