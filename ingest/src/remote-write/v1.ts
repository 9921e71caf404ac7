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

// Field tags (field number << 3 | wire type) as module constants: the hot
// loops compare against plain numbers, not imported bindings (which a
// transpiling loader may turn into property getters).
const TAG_1_LEN = (1 << 3) | WIRE_LEN;
const TAG_2_LEN = (2 << 3) | WIRE_LEN;
const TAG_3_LEN = (3 << 3) | WIRE_LEN;
const TAG_4_LEN = (4 << 3) | WIRE_LEN;
const TAG_1_FIXED64 = (1 << 3) | WIRE_FIXED64;
const TAG_2_VARINT = (2 << 3) | WIRE_VARINT;

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

/** Slots of the label table: a power of two, well above the distinct labels of a request. */
const LABEL_SLOTS = 8192;
/** Label messages up to this many bytes go through the table. */
const LABEL_MAX = 256;

/**
 * Labels already decoded in one request, by the bytes of their message. A
 * request repeats a few thousand distinct labels across its series, so most
 * label messages are found here and cost one hash and one compare instead
 * of two string decodes and an object. Series of one request therefore share
 * Label objects: they are read-only. A collision only replaces the entry.
 *
 * One table serves every request (decoding is synchronous, so requests never
 * interleave): its slots are typed arrays stamped with the request's
 * generation, so a request allocates nothing for the table, and the slots a
 * request filled let go of its labels when it ends.
 */
class LabelTable {
  /** Where each slot's label message starts in the current body, and its length. */
  private readonly starts = new Int32Array(LABEL_SLOTS);
  private readonly lengths = new Int32Array(LABEL_SLOTS);
  /** The generation that filled each slot; other generations' slots are empty. */
  private readonly generations = new Uint32Array(LABEL_SLOTS);
  private readonly labels: (Label | undefined)[] = new Array(LABEL_SLOTS).fill(undefined);
  private readonly filled = new Int32Array(LABEL_SLOTS);
  private filledCount = 0;
  private generation = 0;

  /** Starts a request: every slot is empty. */
  begin(): void {
    this.generation = (this.generation + 1) >>> 0;
    if (this.generation === 0) {
      this.generations.fill(0);
      this.generation = 1;
    }
  }

  /** Ends a request: drops its labels, so the table holds nothing of it. */
  end(): void {
    const labels = this.labels;
    const filled = this.filled;
    for (let i = 0; i < this.filledCount; i++) labels[filled[i]!] = undefined;
    this.filledCount = 0;
  }

  read(r: ProtoReader, end: number): Label {
    const buf = r.buf;
    const start = r.pos;
    const len = end - start;
    if (len > LABEL_MAX) return readLabel(r, end);
    let h = len;
    let i = start;
    for (; i + 4 <= end; i += 4) {
      h = Math.imul(
        h ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)),
        0x9e3779b1,
      );
    }
    for (; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x9e3779b1);
    const slot = (h ^ (h >>> 16)) & (LABEL_SLOTS - 1);
    const fresh = this.generations[slot] !== this.generation;
    if (!fresh && this.lengths[slot] === len) {
      // Both messages lie in the same body.
      const known = this.starts[slot]! - start;
      let j = start;
      while (j < end && buf[j + known] === buf[j]) j++;
      if (j === end) {
        r.pos = end;
        return this.labels[slot]!;
      }
    }
    const label = readLabel(r, end);
    if (fresh) {
      this.generations[slot] = this.generation;
      this.filled[this.filledCount++] = slot;
    }
    this.starts[slot] = start;
    this.lengths[slot] = len;
    this.labels[slot] = label;
    return label;
  }
}

const labelTable = new LabelTable();

function readWriteRequest(r: ProtoReader): WriteSeries[] {
  const series: WriteSeries[] = [];
  const labels = labelTable;
  labels.begin();
  try {
    while (r.pos < r.end) {
      const tag = r.uint32();
      if (tag === TAG_1_LEN) {
        const end = r.delimitedEnd();
        series.push(readTimeSeries(r, end, labels));
      } else {
        // Metadata (3) and anything unknown are skipped.
        r.skipField(tag & 7, tag >>> 3);
      }
    }
  } finally {
    labels.end();
    // Holds no label past the request, nor the room a huge series needed.
    if (labelScratch.length > 1024) labelScratch.length = 0;
    else labelScratch.fill(undefined as unknown as Label);
  }
  return series;
}

/**
 * The histograms of a series that has none, shared by all such series (most
 * series): frozen, so nothing can add to it by mistake.
 */
const NO_HISTOGRAMS = Object.freeze([]) as unknown as HistogramSample[];

/** The labels of the series being read, copied out at its end into an array of their exact number. */
const labelScratch: Label[] = [];

function readTimeSeries(r: ProtoReader, end: number, table: LabelTable): WriteSeries {
  const outerEnd = r.end;
  r.end = end;
  let labelCount = 0;
  // Made at the first sample: a one-sample series gets arrays of one element.
  let timestamps: number[] | undefined;
  let values: number[] | undefined;
  let histograms = NO_HISTOGRAMS;
  let exemplars = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case TAG_1_LEN: {
        const e = r.delimitedEnd();
        labelScratch[labelCount++] = table.read(r, e);
        break;
      }
      case TAG_2_LEN: {
        const e = r.delimitedEnd();
        readSample(r, e);
        if (timestamps === undefined || values === undefined) {
          timestamps = [sampleTimestamp];
          values = [sampleValue];
        } else {
          timestamps.push(sampleTimestamp);
          values.push(sampleValue);
        }
        break;
      }
      case TAG_3_LEN:
        r.pos = r.delimitedEnd();
        exemplars++;
        break;
      case TAG_4_LEN: {
        const e = r.delimitedEnd();
        const m = histogramType.decode(r.buf.subarray(r.pos, e)) as unknown as HistogramMessage;
        r.pos = e;
        if (histograms === NO_HISTOGRAMS) histograms = [];
        histograms.push(histogramFromMessage(m));
        break;
      }
      default:
        r.skipField(tag & 7, tag >>> 3);
    }
  }
  r.end = outerEnd;
  const labels = labelScratch.slice(0, labelCount);
  return { labels, timestamps: timestamps ?? [], values: values ?? [], histograms, exemplars };
}

function readLabel(r: ProtoReader, end: number): Label {
  const outerEnd = r.end;
  r.end = end;
  let name = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === TAG_1_LEN) name = r.string();
    else if (tag === TAG_2_LEN) value = r.string();
    else r.skipField(tag & 7, tag >>> 3);
  }
  r.end = outerEnd;
  return { name, value };
}

// The last sample readSample read (module variables, so no pair is allocated per sample).
let sampleValue = 0;
let sampleTimestamp = 0;

function readSample(r: ProtoReader, end: number): void {
  const outerEnd = r.end;
  r.end = end;
  let value = 0;
  let timestamp = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === TAG_1_FIXED64) value = r.double();
    else if (tag === TAG_2_VARINT) timestamp = r.int64();
    else r.skipField(tag & 7, tag >>> 3);
  }
  r.end = outerEnd;
  sampleTimestamp = timestamp;
  sampleValue = value;
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
