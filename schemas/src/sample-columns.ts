import type { Label } from '@promstream/storage';
import { encodeXorChunk } from '@promstream/storage';
import type avro from 'avsc';
import { SchemaError, SchemaErrorCode } from './errors.js';
import type { SampleBatch, SampleColumns, SeriesChunk } from './types.js';

/**
 * The columnar part of a SampleBatch (`SampleColumns`, schema version 2):
 * series with one float sample each, as a remote-write shard sends them,
 * stored by column so the log's zstd finds the repetition: a symbol table of
 * label strings, label references by position, one shared base time with
 * per-series deltas, and values as short decimals where they are exactly
 * one. The layout is in `../docs/log-records.md`.
 *
 * `SampleBatchBuilder` writes the Avro body directly (no intermediate
 * objects); `expandColumns` turns a decoded record back into plain
 * `SeriesChunk`s, so readers see the same values as before version 2.
 */

/** Largest decimal scale tried for a value: 10^9 keeps every power exact. */
const MAX_SCALE = 9;
const POW10: readonly number[] = Array.from({ length: MAX_SCALE + 1 }, (_, k) => 10 ** k);
/** Mantissas, times and deltas stay below 2^52 so their zig-zag form (2n or -2n-1) is an exact double. */
const LIMIT = 2 ** 52;
const RAW = -1;

/**
 * The decimal scale k with `mantissa / 10^k === v` exactly (checked with the
 * division the reader does, so the value comes back bit for bit), or -1 when
 * there is none: NaN (stale markers included), infinities, -0, long fractions.
 */
export function decimalScale(v: number): number {
  if (Number.isNaN(v) || (v === 0 && 1 / v < 0)) return RAW;
  for (let k = 0; k <= MAX_SCALE; k++) {
    const p = POW10[k]!;
    const m = Math.round(v * p);
    if (m >= LIMIT || m <= -LIMIT) return RAW;
    if (m / p === v) return k;
  }
  return RAW;
}

/** Builds one SampleBatch record: one-sample series by column, any other series as a chunk. */
export class SampleBatchBuilder {
  readonly tenant: string;
  readonly producedAt: number;
  private readonly symbolIds = new Map<string, number>();
  private readonly symbols: string[] = [];
  /** Upper bound of the symbols' encoded size. */
  private symbolBytes = 0;
  private readonly labelCounts: number[] = [];
  private readonly labelNames: number[] = [];
  private readonly labelValues: number[][] = [];
  /** The label strings of the last series at each position, and their symbols. */
  private readonly lastNames: (string | undefined)[] = [];
  private readonly lastNameIds: number[] = [];
  private readonly lastValues: (string | undefined)[] = [];
  private readonly lastValueIds: number[] = [];
  private baseTime = 0;
  private readonly timeDeltas: number[] = [];
  private readonly valueScales: number[] = [];
  private readonly mantissas: number[] = [];
  private readonly rawValues: number[] = [];
  private readonly chunks: SeriesChunk[] = [];

  constructor(tenant: string, producedAt: number) {
    this.tenant = tenant;
    this.producedAt = producedAt;
  }

  /** Series added so far, both kinds. */
  get size(): number {
    return this.labelCounts.length + this.chunks.length;
  }

  /**
   * Adds a series with one float sample by column. Returns false (and adds
   * nothing) when its time does not fit a column (not an integer, or 2^52 ms
   * or more from the base time); the caller then adds it as a chunk.
   */
  addSample(labels: readonly Label[], t: number, v: number): boolean {
    if (!Number.isInteger(t) || t >= LIMIT || t <= -LIMIT) return false;
    const n = this.labelCounts.length;
    if (n === 0) this.baseTime = t;
    const delta = t - this.baseTime;
    if (delta >= LIMIT || delta <= -LIMIT) return false;
    this.timeDeltas.push(delta);
    const count = labels.length;
    this.labelCounts.push(count);
    const columns = this.labelValues;
    const lastNames = this.lastNames;
    const lastValues = this.lastValues;
    for (let j = 0; j < count; j++) {
      const label = labels[j]!;
      if (j === columns.length) {
        columns.push([]);
        lastNames.push(undefined);
        lastValues.push(undefined);
      }
      // Most series repeat the label names, and many a value, of the series
      // before them at the same position: no table lookup for those.
      const name = label.name;
      if (name !== lastNames[j]) {
        lastNames[j] = name;
        this.lastNameIds[j] = this.symbol(name);
      }
      this.labelNames.push(this.lastNameIds[j]!);
      const value = label.value;
      if (value !== lastValues[j]) {
        lastValues[j] = value;
        this.lastValueIds[j] = this.symbol(value);
      }
      columns[j]!.push(this.lastValueIds[j]!);
    }
    const k = decimalScale(v);
    this.valueScales.push(k);
    if (k === RAW) this.rawValues.push(v);
    else this.mantissas.push(Math.round(v * POW10[k]!));
    return true;
  }

  /** Adds a series as a chunk (several samples, histograms, or a time no column takes). */
  addChunk(chunk: SeriesChunk): void {
    this.chunks.push(chunk);
  }

  private symbol(s: string): number {
    let id = this.symbolIds.get(s);
    if (id === undefined) {
      id = this.symbols.length;
      this.symbols.push(s);
      this.symbolIds.set(s, id);
      this.symbolBytes += 3 * s.length + 10;
    }
    return id;
  }

  /**
   * The record in the Confluent wire format: `header` (magic byte and schema
   * id), then the Avro body of `batchType`, which must be the SampleBatch
   * schema with `columns` (version 2). Chunk series are checked and encoded
   * with the schema; the columns are written here directly.
   */
  encode(header: Buffer, batchType: avro.Type): Buffer {
    const seriesType = fieldType(batchType, 'series');
    if (fieldType(batchType, 'columns') === undefined || seriesType === undefined) {
      throw new SchemaError(
        SchemaErrorCode.InvalidRecord,
        `encode a SampleBatch: schema ${batchType.name ?? '?'} has no columns field`,
      );
    }
    let chunkBytes: Buffer | undefined;
    if (this.chunks.length > 0) {
      let invalid: string | undefined;
      const ok = seriesType.isValid(this.chunks, {
        errorHook: (path, any, type) => {
          invalid ??= `Invalid message at series.${path.join('.')}, expected ${String(type)}, got ${String(any)}`;
        },
      });
      if (!ok) throw new SchemaError(SchemaErrorCode.InvalidRecord, `encode a SampleBatch: ${invalid}`);
      chunkBytes = seriesType.toBuffer(this.chunks);
    }
    const n = this.labelCounts.length;
    let bound =
      header.length +
      3 * this.tenant.length +
      64 +
      (chunkBytes?.length ?? 1) +
      this.symbolBytes +
      5 * n +
      5 * this.labelNames.length +
      10 * n +
      5 * n +
      10 * this.mantissas.length +
      8 * this.rawValues.length +
      10 * 12;
    for (const c of this.labelValues) bound += 5 * c.length + 20;
    const buf = Buffer.allocUnsafe(bound);
    header.copy(buf, 0);
    let pos = header.length;
    pos = writeString(buf, pos, this.tenant);
    pos = writeLong(buf, pos, this.producedAt);
    if (chunkBytes === undefined) buf[pos++] = 0;
    else pos += chunkBytes.copy(buf, pos);
    if (n === 0) {
      // Union branch 0: null.
      buf[pos++] = 0;
      return buf.subarray(0, pos);
    }
    // Union branch 1: SampleColumns.
    buf[pos++] = 2;
    pos = writeLong(buf, pos, this.symbols.length);
    for (const s of this.symbols) pos = writeString(buf, pos, s);
    buf[pos++] = 0;
    pos = writeInts(buf, pos, this.labelCounts);
    pos = writeInts(buf, pos, this.labelNames);
    pos = writeLong(buf, pos, this.labelValues.length);
    for (const c of this.labelValues) pos = writeInts(buf, pos, c);
    if (this.labelValues.length > 0) buf[pos++] = 0;
    pos = writeLong(buf, pos, this.baseTime);
    pos = writeLongs(buf, pos, this.timeDeltas);
    pos = writeInts(buf, pos, this.valueScales);
    pos = writeLongs(buf, pos, this.mantissas);
    pos = writeDoubles(buf, pos, this.rawValues);
    return buf.subarray(0, pos);
  }
}

function fieldType(type: avro.Type, name: string): avro.Type | undefined {
  const field = (type as unknown as { field?: (n: string) => { type: avro.Type } | undefined }).field?.(name);
  return field?.type;
}

/** Avro int or long (zig-zag varint) of an integer with |n| < 2^52. */
function writeLong(buf: Buffer, pos: number, n: number): number {
  if (n >= -0x40000000 && n < 0x40000000) {
    let z = ((n << 1) ^ (n >> 31)) >>> 0;
    while (z > 0x7f) {
      buf[pos++] = (z & 0x7f) | 0x80;
      z >>>= 7;
    }
    buf[pos++] = z;
    return pos;
  }
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z > 0x7f) {
    buf[pos++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[pos++] = z;
  return pos;
}

/** An Avro array of int as one block: count, items, 0 (just 0 when empty). */
function writeInts(buf: Buffer, pos: number, items: readonly number[]): number {
  const n = items.length;
  if (n > 0) {
    pos = writeLong(buf, pos, n);
    for (let i = 0; i < n; i++) {
      const v = items[i]!;
      let z = ((v << 1) ^ (v >> 31)) >>> 0;
      while (z > 0x7f) {
        buf[pos++] = (z & 0x7f) | 0x80;
        z >>>= 7;
      }
      buf[pos++] = z;
    }
  }
  buf[pos++] = 0;
  return pos;
}

/** An Avro array of long as one block. */
function writeLongs(buf: Buffer, pos: number, items: readonly number[]): number {
  const n = items.length;
  if (n > 0) {
    pos = writeLong(buf, pos, n);
    for (let i = 0; i < n; i++) pos = writeLong(buf, pos, items[i]!);
  }
  buf[pos++] = 0;
  return pos;
}

/** An Avro array of double (8 bytes little-endian each) as one block. */
function writeDoubles(buf: Buffer, pos: number, items: readonly number[]): number {
  const n = items.length;
  if (n > 0) {
    pos = writeLong(buf, pos, n);
    for (let i = 0; i < n; i++) pos = buf.writeDoubleLE(items[i]!, pos);
  }
  buf[pos++] = 0;
  return pos;
}

/** An Avro string: byte length, then UTF-8 (ASCII written from the string directly). */
function writeString(buf: Buffer, pos: number, s: string): number {
  const len = s.length;
  let ascii = len < 64;
  for (let i = 0; ascii && i < len; i++) if (s.charCodeAt(i) >= 0x80) ascii = false;
  if (ascii) {
    // Zig-zag of a length below 64 is one byte.
    buf[pos++] = len << 1;
    for (let i = 0; i < len; i++) buf[pos++] = s.charCodeAt(i);
    return pos;
  }
  const bytes = Buffer.byteLength(s, 'utf8');
  pos = writeLong(buf, pos, bytes);
  return pos + buf.write(s, pos, bytes, 'utf8');
}

function bad(message: string): SchemaError {
  return new SchemaError(SchemaErrorCode.BadWireFormat, `read SampleBatch columns: ${message}`);
}

/**
 * Moves the columnar series of a decoded SampleBatch into `series` (after
 * the chunk series), each as a one-sample XOR chunk, and leaves `columns` undefined.
 * Records without columns (version 1, or no one-sample series) are returned
 * as they are. Inconsistent columns are refused with SCHEMA_BAD_WIRE_FORMAT.
 */
export function expandColumns(batch: SampleBatch): SampleBatch {
  const c: SampleColumns | null | undefined = batch.columns;
  // Left undefined, not null, so an expanded batch equals the plain value it was written from.
  if (c === null || c === undefined) {
    batch.columns = undefined;
    return batch;
  }
  const {
    symbols,
    labelCounts,
    labelNames,
    labelValues,
    baseTime,
    timeDeltas,
    valueScales,
    mantissas,
    rawValues,
  } = c;
  const n = labelCounts.length;
  if (timeDeltas.length !== n || valueScales.length !== n) {
    throw bad(`${n} label counts, ${timeDeltas.length} times, ${valueScales.length} values`);
  }
  const positions = new Array<number>(labelValues.length).fill(0);
  const symbolCount = symbols.length;
  const out = batch.series;
  let name = 0;
  let mantissa = 0;
  let raw = 0;
  for (let i = 0; i < n; i++) {
    const count = labelCounts[i]!;
    if (count > labelValues.length || name + count > labelNames.length)
      throw bad(`series ${i} has too few labels`);
    const labels: Label[] = new Array(count);
    for (let j = 0; j < count; j++) {
      const ni = labelNames[name++]!;
      const vi = labelValues[j]![positions[j]!++];
      if (vi === undefined || ni >= symbolCount || vi >= symbolCount || ni < 0 || vi < 0) {
        throw bad(`series ${i} label ${j} refers past the ${symbolCount} symbols`);
      }
      labels[j] = { name: symbols[ni]!, value: symbols[vi]! };
    }
    const t = baseTime + timeDeltas[i]!;
    const k = valueScales[i]!;
    let v: number;
    if (k === RAW) {
      if (raw >= rawValues.length) throw bad(`series ${i} has no raw value`);
      v = rawValues[raw++]!;
    } else {
      if (k < 0 || k > MAX_SCALE || mantissa >= mantissas.length)
        throw bad(`series ${i} has value scale ${k}`);
      v = mantissas[mantissa++]! / POW10[k]!;
    }
    const bytes = encodeXorChunk([t], [v]);
    out.push({
      labels,
      minTime: t,
      maxTime: t,
      encoding: 'XOR',
      chunk: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      histograms: [],
    });
  }
  if (name !== labelNames.length || mantissa !== mantissas.length || raw !== rawValues.length) {
    throw bad('columns have entries no series uses');
  }
  for (let j = 0; j < labelValues.length; j++) {
    if (positions[j] !== labelValues[j]!.length)
      throw bad(`label value column ${j} has entries no series uses`);
  }
  batch.columns = undefined;
  return batch;
}
