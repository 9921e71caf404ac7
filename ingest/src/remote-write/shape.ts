/**
 * Checks a request's size and shape before anything is allocated for it,
 * so that a hostile body (a decompression bomb, millions of tiny series, a
 * histogram with millions of buckets) is refused for the cost of reading a
 * few varints instead of the cost of decoding it.
 *
 * Two checks, in the order a request meets them:
 * - `checkDeclaredLength`: the snappy block format starts with the
 *   uncompressed length as a varint; a body declaring more than the limit
 *   is refused before the decompressor allocates that much. The decompressor
 *   itself refuses output that differs from the declared length, so the
 *   declared length bounds what decompression can allocate.
 * - `checkShape`: one pass over the uncompressed protobuf that counts series,
 *   samples, labels per series, native histogram buckets, exemplars and (2.0)
 *   symbols, reading only tags and lengths (it never descends into labels or
 *   samples), and stops at the first limit broken. Its cost is bounded by the
 *   limits, not by the body: it stops after max series + 1.
 */
import { IngestError, IngestErrorCode } from '../errors.js';
import type { WireVersion } from './content-type.js';
import { ProtoReadError, ProtoReader, WIRE_LEN, WIRE_VARINT } from './proto-reader.js';

/** The limits the shape check enforces (a subset of ValidationLimits). */
export interface ShapeLimits {
  maxDecompressedBytes: number;
  maxSeriesPerRequest: number;
  maxSamplesPerRequest: number;
  maxLabelsPerSeries: number;
  maxHistogramBucketsPerRequest: number;
  maxExemplarsPerRequest: number;
  maxSymbolsPerRequest: number;
}

/**
 * Reads the uncompressed length a snappy block declares and refuses it when
 * it is over `maxDecompressedBytes` (413, as Mimir answers a request over
 * its max_recv_msg_size). Returns the declared length.
 */
export function checkDeclaredLength(body: Uint8Array, maxDecompressedBytes: number): number {
  let length = 0;
  let shift = 0;
  for (let i = 0; ; i++) {
    // A 32-bit length takes at most 5 bytes.
    if (i >= body.length || i >= 5) {
      throw new IngestError(IngestErrorCode.MalformedRequest, 'snappy: the uncompressed length is missing');
    }
    const b = body[i]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    shift += 7;
  }
  if (length > maxDecompressedBytes) {
    throw new IngestError(
      IngestErrorCode.PayloadTooLarge,
      `the body declares ${length} bytes once decompressed, over the limit max_decompressed_bytes of ${maxDecompressedBytes}`,
    );
  }
  return length;
}

function tooMany(what: string, limitName: string, limit: number): IngestError {
  return new IngestError(
    IngestErrorCode.LimitExceeded,
    `more than ${limit} ${what} in one request, over the limit ${limitName} of ${limit}`,
  );
}

/** Running totals of one pass, checked against the limits as they grow. */
class Totals {
  series = 0;
  samples = 0;
  buckets = 0;
  exemplars = 0;
  symbols = 0;

  constructor(private readonly limits: ShapeLimits) {}

  addSeries(): void {
    if (++this.series > this.limits.maxSeriesPerRequest)
      throw tooMany('series', 'max_series_per_request', this.limits.maxSeriesPerRequest);
  }

  addSamples(n: number): void {
    this.samples += n;
    if (this.samples > this.limits.maxSamplesPerRequest)
      throw tooMany('samples', 'max_samples_per_request', this.limits.maxSamplesPerRequest);
  }

  addBuckets(n: number): void {
    this.buckets += n;
    if (this.buckets > this.limits.maxHistogramBucketsPerRequest)
      throw tooMany(
        'native histogram buckets',
        'max_histogram_buckets_per_request',
        this.limits.maxHistogramBucketsPerRequest,
      );
  }

  addExemplar(): void {
    if (++this.exemplars > this.limits.maxExemplarsPerRequest)
      throw tooMany('exemplars', 'max_exemplars_per_request', this.limits.maxExemplarsPerRequest);
  }

  addSymbol(): void {
    if (++this.symbols > this.limits.maxSymbolsPerRequest)
      throw tooMany('symbols', 'max_symbols_per_request', this.limits.maxSymbolsPerRequest);
  }

  checkLabels(count: number): void {
    if (count > this.limits.maxLabelsPerSeries) {
      throw new IngestError(
        IngestErrorCode.LimitExceeded,
        `series ${this.series} of the request carries ${count} labels, over the limit max_labels_per_series of ${this.limits.maxLabelsPerSeries}`,
      );
    }
  }
}

/**
 * Counts the buckets of one native histogram message (both wire versions
 * share its field numbers) without decoding it: packed varint deltas by
 * their terminal bytes, packed doubles by length / 8, unpacked ones one per field.
 */
function histogramBuckets(r: ProtoReader, end: number): number {
  const outerEnd = r.end;
  r.end = end;
  let n = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    const bucketField = field === 9 || field === 10 || field === 12 || field === 13 || field === 16;
    if (bucketField && wire === WIRE_LEN) {
      const e = r.delimitedEnd();
      if (field === 9 || field === 12) {
        for (let i = r.pos; i < e; i++) if (r.buf[i]! < 0x80) n++;
      } else n += (e - r.pos) >>> 3;
      r.pos = e;
    } else {
      if (bucketField) n++;
      r.skipField(wire, field);
    }
  }
  r.end = outerEnd;
  return n;
}

/** Counts the packed uint32 entries of a length-delimited field (2.0 labels_refs). */
function packedCount(r: ProtoReader, end: number): number {
  let n = 0;
  for (let i = r.pos; i < end; i++) if (r.buf[i]! < 0x80) n++;
  r.pos = end;
  return n;
}

function seriesV1(r: ProtoReader, end: number, totals: Totals): void {
  const outerEnd = r.end;
  r.end = end;
  let labels = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LEN)) {
      labels++;
      r.pos = r.delimitedEnd();
    } else if (tag === ((2 << 3) | WIRE_LEN)) {
      totals.addSamples(1);
      r.pos = r.delimitedEnd();
    } else if (tag === ((3 << 3) | WIRE_LEN)) {
      totals.addExemplar();
      r.pos = r.delimitedEnd();
    } else if (tag === ((4 << 3) | WIRE_LEN)) {
      const e = r.delimitedEnd();
      totals.addSamples(1);
      totals.addBuckets(histogramBuckets(r, e));
      r.pos = e;
    } else r.skipField(tag & 7, tag >>> 3);
  }
  r.end = outerEnd;
  totals.checkLabels(labels);
}

function seriesV2(r: ProtoReader, end: number, totals: Totals): void {
  const outerEnd = r.end;
  r.end = end;
  let refs = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LEN)) refs += packedCount(r, r.delimitedEnd());
    else if (tag === ((1 << 3) | WIRE_VARINT)) {
      refs++;
      r.uint32();
    } else if (tag === ((2 << 3) | WIRE_LEN)) {
      totals.addSamples(1);
      r.pos = r.delimitedEnd();
    } else if (tag === ((3 << 3) | WIRE_LEN)) {
      const e = r.delimitedEnd();
      totals.addSamples(1);
      totals.addBuckets(histogramBuckets(r, e));
      r.pos = e;
    } else if (tag === ((4 << 3) | WIRE_LEN)) {
      totals.addExemplar();
      r.pos = r.delimitedEnd();
    } else r.skipField(tag & 7, tag >>> 3);
  }
  r.end = outerEnd;
  totals.checkLabels(Math.ceil(refs / 2));
}

/**
 * Checks the shape of an uncompressed request against the limits; throws
 * the first limit broken as a 400 (limit_exceeded) and a body that does not
 * parse as a 400 (malformed_request). Allocates nothing per field.
 */
export function checkShape(raw: Uint8Array, version: WireVersion, limits: ShapeLimits): void {
  const r = new ProtoReader(raw);
  const totals = new Totals(limits);
  const seriesField = version === '2.0' ? 5 : 1;
  try {
    while (r.pos < r.end) {
      const tag = r.uint32();
      if (tag === ((seriesField << 3) | WIRE_LEN)) {
        totals.addSeries();
        const end = r.delimitedEnd();
        if (version === '2.0') seriesV2(r, end, totals);
        else seriesV1(r, end, totals);
        r.pos = end;
      } else if (version === '2.0' && tag === ((4 << 3) | WIRE_LEN)) {
        totals.addSymbol();
        r.pos = r.delimitedEnd();
      } else r.skipField(tag & 7, tag >>> 3);
    }
  } catch (cause) {
    if (cause instanceof IngestError) throw cause;
    if (cause instanceof ProtoReadError) {
      throw new IngestError(
        IngestErrorCode.MalformedRequest,
        `decode ${version === '2.0' ? 'io.prometheus.write.v2.Request' : 'prometheus.WriteRequest'}: ${cause.message}`,
        { cause },
      );
    }
    throw cause;
  }
}
