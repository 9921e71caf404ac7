/**
 * Prometheus remote write 2.0: a snappy-compressed `io.prometheus.write.v2.Request`.
 *
 *   Request    { reserved 1 to 3; repeated string symbols = 4; repeated TimeSeries timeseries = 5; }
 *   TimeSeries { repeated uint32 labels_refs = 1; repeated Sample samples = 2;
 *                repeated Histogram histograms = 3; repeated Exemplar exemplars = 4;
 *                Metadata metadata = 5; int64 created_timestamp = 6; }
 *   Sample     { double value = 1; int64 timestamp = 2; }
 *   Exemplar   { repeated uint32 labels_refs = 1; double value = 2; int64 timestamp = 3; }
 *   Metadata   { MetricType type = 1; uint32 help_ref = 3; uint32 unit_ref = 4; }
 *
 * Labels are pairs of indexes into the symbol table, whose first entry must be
 * the empty string. Content-Type `application/x-protobuf;proto=io.prometheus.write.v2.Request`.
 */
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
import { countRequest, type WriteRequest, type WriteSeries } from './types.js';

const proto = `
syntax = "proto3";
package io.prometheus.write.v2;
message Sample { double value = 1; int64 timestamp = 2; }
message Exemplar { repeated uint32 labels_refs = 1; double value = 2; int64 timestamp = 3; }
${histogramProto}
message Metadata {
  enum MetricType {
    METRIC_TYPE_UNSPECIFIED = 0; METRIC_TYPE_COUNTER = 1; METRIC_TYPE_GAUGE = 2; METRIC_TYPE_HISTOGRAM = 3;
    METRIC_TYPE_GAUGEHISTOGRAM = 4; METRIC_TYPE_SUMMARY = 5; METRIC_TYPE_INFO = 6; METRIC_TYPE_STATESET = 7;
  }
  MetricType type = 1;
  uint32 help_ref = 3;
  uint32 unit_ref = 4;
}
message TimeSeries {
  repeated uint32 labels_refs = 1;
  repeated Sample samples = 2;
  repeated Histogram histograms = 3;
  repeated Exemplar exemplars = 4;
  Metadata metadata = 5;
  int64 created_timestamp = 6;
}
message Request {
  reserved 1 to 3;
  repeated string symbols = 4;
  repeated TimeSeries timeseries = 5;
}
`;

const requestType = protobuf
  .parse(proto, { keepCase: true })
  .root.lookupType('io.prometheus.write.v2.Request');

/** The protobuf message name of remote write 2.0. */
export const V2_PROTO = 'io.prometheus.write.v2.Request';

interface V2Message {
  symbols?: string[];
  timeseries?: {
    labels_refs?: number[];
    samples?: { value?: number; timestamp?: Int64 }[];
    histograms?: HistogramMessage[];
    exemplars?: unknown[];
  }[];
}

function malformed(message: string): IngestError {
  return new IngestError(IngestErrorCode.MalformedRequest, message);
}

/** Decodes an uncompressed 2.0 Request, resolving label references through its symbol table. */
export function decodeV2(body: Uint8Array): WriteRequest {
  let msg: V2Message;
  try {
    msg = requestType.decode(body) as unknown as V2Message;
  } catch (cause) {
    throw new IngestError(
      IngestErrorCode.MalformedRequest,
      `decode io.prometheus.write.v2.Request: ${(cause as Error).message}`,
      { cause },
    );
  }
  const symbols = msg.symbols ?? [];
  if (symbols.length > 0 && symbols[0] !== '') {
    throw malformed('symbol table: the first symbol must be the empty string');
  }
  const series: WriteSeries[] = [];
  for (const ts of msg.timeseries ?? []) {
    const refs = ts.labels_refs ?? [];
    if (refs.length % 2 !== 0) throw malformed('labels_refs: an odd number of references');
    const labels = new Array<{ name: string; value: string }>(refs.length / 2);
    for (let i = 0; i < refs.length; i += 2) {
      const name = symbols[refs[i]!];
      const value = symbols[refs[i + 1]!];
      if (name === undefined || value === undefined) {
        throw malformed(
          `labels_refs: reference ${Math.max(refs[i]!, refs[i + 1]!)} is outside the symbol table`,
        );
      }
      labels[i / 2] = { name, value };
    }
    const samples = ts.samples ?? [];
    const timestamps = new Array<number>(samples.length);
    const values = new Array<number>(samples.length);
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      timestamps[i] = int64(s.timestamp);
      values[i] = s.value ?? 0;
    }
    series.push({
      labels,
      timestamps,
      values,
      histograms: (ts.histograms ?? []).map(histogramFromMessage),
      exemplars: ts.exemplars?.length ?? 0,
    });
  }
  return countRequest(series);
}

/** Encodes series as an uncompressed 2.0 Request with a symbol table (for senders, tests, benchmarks). */
export function encodeV2(series: readonly WriteSeries[]): Uint8Array {
  const symbols: string[] = [''];
  const index = new Map<string, number>([['', 0]]);
  const ref = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = symbols.length;
      symbols.push(s);
      index.set(s, i);
    }
    return i;
  };
  const timeseries = series.map((s) => ({
    labels_refs: s.labels.flatMap((l) => [ref(l.name), ref(l.value)]),
    samples: s.values.map((value, i) => ({ value, timestamp: s.timestamps[i] })),
    histograms: s.histograms.map((h) => histogramToMessage(h.timestamp, h.histogram)),
  }));
  return requestType.encode(requestType.fromObject({ symbols, timeseries })).finish();
}
