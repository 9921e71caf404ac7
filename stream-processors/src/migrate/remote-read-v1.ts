/**
 * Prometheus remote-read 0.1.0 messages, the SAMPLES response type only:
 *
 *   ReadRequest  { repeated Query queries = 1; repeated ResponseType accepted_response_types = 2 [packed]; }
 *   Query        { int64 start_timestamp_ms = 1; int64 end_timestamp_ms = 2; repeated LabelMatcher matchers = 3; }
 *   LabelMatcher { Type type = 1 (EQ 0, NEQ 1, RE 2, NRE 3); string name = 2; string value = 3; }
 *   ReadResponse { repeated QueryResult results = 1; }
 *   QueryResult  { repeated TimeSeries timeseries = 1; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; ... }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }
 *
 * Bodies travel snappy block-compressed; that is the caller's part. Fields
 * the decoder does not know (histograms, exemplars) are skipped by wire type.
 */
import type { Labels, Matcher } from '@promstream/storage';
import { MigrateError } from './errors.js';

/** One query of a read request. */
export interface ReadQuery {
  startMs: number;
  endMs: number;
  matchers: readonly Matcher[];
}

/** A series of a read response: labels as sent, samples as parallel arrays. */
export interface ReadSeries {
  labels: Labels;
  t: number[];
  v: number[];
}

const MATCH_TYPE: Record<Matcher['type'], number> = { '=': 0, '!=': 1, '=~': 2, '!~': 3 };

class Writer {
  private buf = new Uint8Array(256);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }

  /** A varint of a non-negative or negative safe integer (two's complement over 64 bits). */
  varint(n: number): void {
    let v = BigInt.asUintN(64, BigInt(n));
    this.room(10);
    while (v >= 0x80n) {
      this.buf[this.at++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.at++] = Number(v);
  }

  bytes(field: number, b: Uint8Array): void {
    this.varint((field << 3) | 2);
    this.varint(b.length);
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  int(field: number, n: number): void {
    this.varint(field << 3);
    this.varint(n);
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.at);
  }
}

/** Encodes a ReadRequest asking for SAMPLES responses. */
export function encodeReadRequest(queries: readonly ReadQuery[]): Uint8Array {
  const req = new Writer();
  for (const q of queries) {
    const w = new Writer();
    w.int(1, q.startMs);
    w.int(2, q.endMs);
    for (const m of q.matchers) {
      const mw = new Writer();
      mw.int(1, MATCH_TYPE[m.type]);
      mw.string(2, m.name);
      mw.string(3, m.value);
      w.bytes(3, mw.done());
    }
    req.bytes(1, w.done());
  }
  // accepted_response_types = [SAMPLES]; packed, one byte 0.
  req.bytes(2, new Uint8Array([0]));
  return req.done();
}

class Reader {
  at: number;
  constructor(
    private readonly b: Uint8Array,
    start = 0,
    readonly end = b.length,
  ) {
    this.at = start;
  }

  private bad(why: string): never {
    throw new MigrateError('BAD_INPUT', `remote-read response: ${why} at byte ${this.at}`);
  }

  varint(): number {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (this.at >= this.end) this.bad('truncated varint');
      const byte = this.b[this.at++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) this.bad('varint longer than 10 bytes');
    }
    return Number(BigInt.asIntN(64, v));
  }

  double(): number {
    if (this.at + 8 > this.end) this.bad('truncated double');
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.at, 8).getFloat64(0, true);
    this.at += 8;
    return v;
  }

  /** The [start, end) of a length-delimited field's body. */
  sub(): [number, number] {
    const n = this.varint();
    if (n < 0 || this.at + n > this.end) this.bad('length past the end');
    const s = this.at;
    this.at += n;
    return [s, this.at];
  }

  string(): string {
    const [s, e] = this.sub();
    return new TextDecoder().decode(this.b.subarray(s, e));
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.at += 8;
    else if (wire === 2) this.sub();
    else if (wire === 5) this.at += 4;
    else this.bad(`wire type ${wire}`);
    if (this.at > this.end) this.bad('field past the end');
  }

  reader(): Reader {
    const [s, e] = this.sub();
    return new Reader(this.b, s, e);
  }
}

function decodeSeries(r: Reader): ReadSeries {
  const labels: { name: string; value: string }[] = [];
  const t: number[] = [];
  const v: number[] = [];
  while (r.at < r.end) {
    const key = r.varint();
    const field = key >>> 3;
    if (field === 1 && (key & 7) === 2) {
      const lr = r.reader();
      let name = '';
      let value = '';
      while (lr.at < lr.end) {
        const k = lr.varint();
        if (k === 0x0a) name = lr.string();
        else if (k === 0x12) value = lr.string();
        else lr.skip(k & 7);
      }
      labels.push({ name, value });
    } else if (field === 2 && (key & 7) === 2) {
      const sr = r.reader();
      let value = 0;
      let ts = 0;
      while (sr.at < sr.end) {
        const k = sr.varint();
        if (k === 0x09) value = sr.double();
        else if (k === 0x10) ts = sr.varint();
        else sr.skip(k & 7);
      }
      t.push(ts);
      v.push(value);
    } else r.skip(key & 7);
  }
  labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { labels, t, v };
}

/** Decodes a ReadResponse: one list of series per query, in query order. */
export function decodeReadResponse(body: Uint8Array): ReadSeries[][] {
  const r = new Reader(body);
  const results: ReadSeries[][] = [];
  while (r.at < r.end) {
    const key = r.varint();
    if (key !== 0x0a) {
      r.skip(key & 7);
      continue;
    }
    const qr = r.reader();
    const series: ReadSeries[] = [];
    while (qr.at < qr.end) {
      const k = qr.varint();
      if (k === 0x0a) series.push(decodeSeries(qr.reader()));
      else qr.skip(k & 7);
    }
    results.push(series);
  }
  return results;
}
