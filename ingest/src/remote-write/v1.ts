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

const writeRequestType = protobuf.parse(proto, { keepCase: true }).root.lookupType('prometheus.WriteRequest');

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

/** Decodes an uncompressed 1.0 WriteRequest. */
export function decodeV1(body: Uint8Array): WriteRequest {
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
