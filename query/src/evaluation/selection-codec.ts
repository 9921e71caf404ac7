import {
  type FloatHistogram,
  type Label,
  type LoadedChunk,
  LoadedSeries,
  type SampleIterator,
  ValueType,
} from '@promstream/storage';
import { DownsampledSeries } from '../blocks/downsampled-select.js';
import type { Aggregate } from '../blocks/resolution.js';
import { EngineError } from '../engine-types.js';
import type { Series } from '../querier.js';

/**
 * A select's answer as it crosses from the thread that owns the data (the
 * main thread: head and blocks) to an evaluation thread. A series read from
 * blocks alone crosses as its compressed chunks, decoded on the evaluation
 * thread; any other (the head's, or one merged from head and blocks) as its
 * decoded samples. Every column's buffer is transferred, not copied.
 *
 * - Chunks: series `i` owns chunks `[chunkOffsets[i], chunkOffsets[i+1])`;
 *   chunk `k` is `chunkMeta[3k..3k+2]` (min time, max time, encoding) and
 *   bytes `[byteOffsets[k], byteOffsets[k+1])` of `bytes`.
 * - Samples: series `i` owns `[offsets[i], offsets[i+1])` of `t` and `f`; a
 *   histogram sample keeps its slot (value 0) and is listed in `histograms`
 *   by its absolute index. A series has chunks or samples, never both.
 * - Downsampled series (raw and AggrChunks read through one aggregate, see
 *   `DownsampledSeries`) cross as chunks too, `aggregates[i]` naming the
 *   aggregate; it is `NOT_DOWNSAMPLED` for every other series.
 */
export interface EncodedSelection {
  /**
   * Every series' label names and values in turn (name, value, name, ...),
   * series `i` having `labelCounts[i]` pairs: flat strings cross threads
   * several times faster than label objects.
   */
  readonly labelStrings: string[];
  readonly labelCounts: Uint32Array;
  /** The select's range, which a chunk series is clipped to. */
  readonly mint: number;
  readonly maxt: number;
  readonly chunkOffsets: Uint32Array;
  /** Per series, the aggregate its chunks are read through, or `NOT_DOWNSAMPLED`. */
  readonly aggregates: Int8Array;
  readonly chunkMeta: Float64Array;
  readonly byteOffsets: Uint32Array;
  readonly bytes: Uint8Array;
  /** Series count + 1 sample offsets. */
  readonly offsets: Uint32Array;
  readonly t: Float64Array;
  readonly f: Float64Array;
  /** Absolute sample index and histogram, in index order. */
  readonly histograms: { at: number; h: FloatHistogram }[];
}

/** The `aggregates` entry of a series whose chunks are read as they are. */
export const NOT_DOWNSAMPLED = -128;

/** How long encoding runs before it lets the event loop turn, milliseconds. */
const SLICE_MS = 8;

/**
 * Reads the samples in [mint, maxt] of every series into columns. Runs in
 * slices of a few milliseconds with a turn of the event loop between them,
 * so a large selection does not hold up other requests or the head; stops
 * with the signal's abort.
 */
export async function encodeSelection(
  series: readonly Series[],
  mint: number,
  maxt: number,
  signal?: AbortSignal,
): Promise<EncodedSelection> {
  // Series read from blocks alone (block series and their chains) cross as their compressed chunks.
  const chunked = series.map((s) => (s instanceof DownsampledSeries ? s.downsampledChunks : s.chunks));
  const aggregates = new Int8Array(series.length).fill(NOT_DOWNSAMPLED);
  series.forEach((s, i) => {
    if (s instanceof DownsampledSeries) aggregates[i] = s.aggregate;
  });
  let chunkCount = 0;
  let byteCount = 0;
  for (const cs of chunked) {
    if (cs === undefined) continue;
    chunkCount += cs.length;
    for (const c of cs) byteCount += c.bytes.length;
  }
  const chunkOffsets = new Uint32Array(series.length + 1);
  const chunkMeta = new Float64Array(chunkCount * 3);
  const byteOffsets = new Uint32Array(chunkCount + 1);
  const bytes = new Uint8Array(byteCount);
  let k = 0;
  let b = 0;
  const offsets = new Uint32Array(series.length + 1);
  let t = new Float64Array(Math.max(64, series.length * 16));
  let f = new Float64Array(t.length);
  const histograms: { at: number; h: FloatHistogram }[] = [];
  let n = 0;
  let sliceStart = performance.now();
  let reuse: SampleIterator | undefined;
  for (let i = 0; i < series.length; i++) {
    if ((i & 63) === 0 && performance.now() - sliceStart > SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw new EngineError('canceled', 'query was canceled');
      sliceStart = performance.now();
    }
    const s = series[i]!;
    const cs = chunked[i];
    if (cs !== undefined) {
      for (const c of cs) {
        chunkMeta[3 * k] = c.minTime;
        chunkMeta[3 * k + 1] = c.maxTime;
        chunkMeta[3 * k + 2] = c.encoding;
        bytes.set(c.bytes, b);
        b += c.bytes.length;
        byteOffsets[++k] = b;
      }
      chunkOffsets[i + 1] = k;
      offsets[i + 1] = n;
      continue;
    }
    chunkOffsets[i + 1] = k;
    const it = s.iterator(reuse);
    const copier = it.copyFloats;
    let vt = it.seek(mint);
    while (vt !== ValueType.None) {
      const st = it.atT();
      if (st > maxt) break;
      if (n === t.length) {
        const nt = new Float64Array(n * 2);
        nt.set(t);
        t = nt;
        const nf = new Float64Array(n * 2);
        nf.set(f);
        f = nf;
      }
      if (vt === ValueType.Float && copier !== undefined) {
        const c = copier.call(it, t, f, n, t.length, maxt);
        if (c === 0) break;
        n += c;
      } else {
        t[n] = st;
        if (vt === ValueType.Float) f[n] = it.at();
        else {
          // The iterator may reuse its histogram object: copy what crosses.
          histograms.push({ at: n, h: structuredClone(it.atHistogram()) });
          f[n] = 0;
        }
        n++;
      }
      vt = it.next();
    }
    const err = it.err();
    if (err) throw new EngineError('execution', `read series: ${err.message}`, { cause: err });
    reuse = it;
    offsets[i + 1] = n;
  }
  const labelCounts = new Uint32Array(series.length);
  const labelStrings: string[] = [];
  for (let i = 0; i < series.length; i++) {
    const ls = series[i]!.labels;
    labelCounts[i] = ls.length;
    for (const l of ls) labelStrings.push(l.name, l.value);
  }
  return {
    labelStrings,
    labelCounts,
    mint,
    maxt,
    chunkOffsets,
    aggregates,
    chunkMeta,
    byteOffsets,
    bytes,
    offsets,
    t: t.length === n ? t : t.slice(0, n),
    f: f.length === n ? f : f.slice(0, n),
    histograms,
  };
}

/** The buffers of an encoded selection, to transfer with it. */
export function selectionTransfer(sel: EncodedSelection): ArrayBuffer[] {
  return [
    sel.labelCounts.buffer as ArrayBuffer,
    sel.chunkOffsets.buffer as ArrayBuffer,
    sel.aggregates.buffer as ArrayBuffer,
    sel.chunkMeta.buffer as ArrayBuffer,
    sel.byteOffsets.buffer as ArrayBuffer,
    sel.bytes.buffer as ArrayBuffer,
    sel.offsets.buffer as ArrayBuffer,
    sel.t.buffer as ArrayBuffer,
    sel.f.buffer as ArrayBuffer,
  ];
}

/** The series of an encoded selection, each iterating its run of the columns. */
export function decodeSelection(sel: EncodedSelection): Series[] {
  const count = sel.labelCounts.length;
  const out: Series[] = new Array(count);
  let h = 0;
  let p = 0;
  for (let i = 0; i < count; i++) {
    const labels: Label[] = new Array(sel.labelCounts[i]!);
    for (let j = 0; j < labels.length; j++, p += 2)
      labels[j] = { name: sel.labelStrings[p]!, value: sel.labelStrings[p + 1]! };
    const c0 = sel.chunkOffsets[i]!;
    const c1 = sel.chunkOffsets[i + 1]!;
    if (c1 > c0) {
      const chunks: LoadedChunk[] = new Array(c1 - c0);
      for (let k = c0; k < c1; k++) {
        chunks[k - c0] = {
          minTime: sel.chunkMeta[3 * k]!,
          maxTime: sel.chunkMeta[3 * k + 1]!,
          encoding: sel.chunkMeta[3 * k + 2]!,
          ref: 0,
          bytes: sel.bytes.subarray(sel.byteOffsets[k]!, sel.byteOffsets[k + 1]!),
        };
      }
      const aggregate = sel.aggregates[i]!;
      out[i] =
        aggregate === NOT_DOWNSAMPLED
          ? new LoadedSeries(labels, chunks, sel.mint, sel.maxt)
          : new DownsampledSeries(labels, chunks, aggregate as Aggregate, sel.mint, sel.maxt);
      continue;
    }
    const from = sel.offsets[i]!;
    const to = sel.offsets[i + 1]!;
    const firstHistogram = h;
    while (h < sel.histograms.length && sel.histograms[h]!.at < to) h++;
    const hs = h > firstHistogram ? sel.histograms.slice(firstHistogram, h) : undefined;
    out[i] = {
      labels,
      iterator: () => new ColumnIterator(sel.t, sel.f, from, to, hs),
    };
  }
  return out;
}

/** Iterates one series' run of the columns. */
export class ColumnIterator implements SampleIterator {
  private i: number;
  private h = 0;

  constructor(
    private readonly t: Float64Array,
    private readonly f: Float64Array,
    private readonly from: number,
    private readonly to: number,
    private readonly histograms: readonly { at: number; h: FloatHistogram }[] | undefined,
  ) {
    this.i = from - 1;
  }

  private kind(): ValueType {
    if (this.i >= this.to) return ValueType.None;
    const hs = this.histograms;
    if (hs === undefined) return ValueType.Float;
    while (this.h < hs.length && hs[this.h]!.at < this.i) this.h++;
    return this.h < hs.length && hs[this.h]!.at === this.i ? ValueType.FloatHistogram : ValueType.Float;
  }

  next(): ValueType {
    if (this.i < this.to) this.i++;
    return this.kind();
  }

  seek(t: number): ValueType {
    if (this.i < this.from) this.i = this.from;
    while (this.i < this.to && this.t[this.i]! < t) this.i++;
    return this.kind();
  }

  atT(): number {
    return this.t[this.i]!;
  }

  at(): number {
    return this.f[this.i]!;
  }

  atHistogram(): FloatHistogram {
    const hs = this.histograms;
    if (hs === undefined || this.kind() !== ValueType.FloatHistogram)
      throw new Error('no histogram at this sample');
    return hs[this.h]!.h;
  }

  /**
   * Copies float samples from the current one on, up to `limit` slots, the
   * time `maxt` or the next histogram; leaves the iterator on the last one
   * copied (as the block iterators do).
   */
  copyFloats(t: Float64Array, f: Float64Array, at: number, limit: number, maxt: number): number {
    let stop = this.to;
    const hs = this.histograms;
    if (hs !== undefined) {
      while (this.h < hs.length && hs[this.h]!.at < this.i) this.h++;
      if (this.h < hs.length) stop = Math.min(stop, hs[this.h]!.at);
    }
    let k = 0;
    let i = this.i;
    while (i < stop && at + k < limit && this.t[i]! <= maxt) {
      t[at + k] = this.t[i]!;
      f[at + k] = this.f[i]!;
      k++;
      i++;
    }
    if (k > 0) this.i = i - 1;
    return k;
  }

  err(): Error | undefined {
    return undefined;
  }
}
