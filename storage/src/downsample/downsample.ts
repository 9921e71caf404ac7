/**
 * Downsampling of one series into AggrChunks, as Thanos v0.42.5's
 * pkg/compact/downsample computes it (storage/docs/aggr-chunk.md): raw
 * samples to 5m or 1h, and AggrChunks of one resolution to a coarser one.
 * The same input gives Thanos' bytes.
 */
import { StorageError, StorageErrorCode } from '../errors.js';
import { isStaleNaN, type SeriesChunk, ValueType } from '../model.js';
import {
  AGGR_ENCODING,
  AGGR_TYPES,
  AggrChunkView,
  AggrIterator,
  type AggrPart,
  AggrType,
  CounterSeriesIterator,
  encodeAggrChunk,
} from '../tsz/aggr.js';
import { XOR_ENCODING, XorAppender, XorIterator } from '../tsz/xor.js';

/** Thanos' resolutions, ms. */
export const RES_RAW = 0;
export const RES_5M = 5 * 60 * 1000;
export const RES_1H = 60 * 60 * 1000;

/** The raw resolution Thanos assumes when it sizes chunks (one minute). */
const ASSUMED_RAW_STEP = 60 * 1000;
/** Thanos cuts chunks so that each holds at most about this many windows. */
const MAX_WINDOWS_PER_CHUNK = 140;

/** A growable pair of typed arrays of samples. */
export class SampleBuffer {
  t = new Float64Array(256);
  v = new Float64Array(256);
  n = 0;

  clear(): void {
    this.n = 0;
  }

  push(t: number, v: number): void {
    if (this.n === this.t.length) this.reserve(1);
    this.t[this.n] = t;
    this.v[this.n] = v;
    this.n++;
  }

  /** Makes room for `more` samples after the current ones. */
  reserve(more: number): void {
    if (this.n + more <= this.t.length) return;
    const size = Math.max(this.t.length * 2, this.n + more);
    const t2 = new Float64Array(size);
    const v2 = new Float64Array(size);
    t2.set(this.t.subarray(0, this.n));
    v2.set(this.v.subarray(0, this.n));
    this.t = t2;
    this.v = v2;
  }
}

/** The end time of the window of resolution `r` that holds `t` (window ends are one ms short of the next start). */
export function windowEnd(t: number, r: number): number {
  // Go's % truncates toward zero, as JavaScript's does.
  return t - (t % r) + r - 1;
}

/** How many chunks Thanos makes of a series (its targetChunkCount). */
export function targetChunkCount(
  mint: number,
  maxt: number,
  inRes: number,
  outRes: number,
  count: number,
): number {
  const maxSamples = Math.trunc((maxt - mint) / outRes);
  // count / 0 is +Inf in Go's float64 too, and is clamped to 1.
  const fullness = Math.min(1, count / ((maxt - mint) / inRes));
  const expSamples = Math.trunc(maxSamples * fullness) + 1;
  let x = 1;
  while (Math.trunc(expSamples / x) > MAX_WINDOWS_PER_CHUNK) x++;
  return x;
}

/**
 * Thanos' floatAggregator state: window statistics (count, sum, min, max,
 * reset per window) and a counter over the whole batch: the first sample
 * sets it, each later one adds its increase, or its value after a reset.
 */
class Aggregator {
  total = 0;
  count = 0;
  sum = 0;
  min = Number.MAX_VALUE;
  max = -Number.MAX_VALUE;
  counter = 0;
  last = 0;
}

/**
 * Aggregates samples [from, to) of `b` into windows of `res`, calling `emit`
 * at each window's end (clamped to the last sample's time); returns the last
 * window time (Thanos' downsampleBatch).
 */
function aggregateWindows(
  b: SampleBuffer,
  from: number,
  to: number,
  res: number,
  a: Aggregator,
  emit: (t: number, a: Aggregator) => void,
): number {
  // The aggregator's state lives in locals through the loop (written back
  // before each emit), so the per-sample work is arithmetic on registers.
  const ts = b.t;
  const vs = b.v;
  let nextT = -1;
  const lastT = ts[to - 1]!;
  let { total, count, sum, min, max, counter, last } = a;
  for (let i = from; i < to; i++) {
    const t = ts[i]!;
    if (t > nextT) {
      if (nextT !== -1) {
        a.total = total;
        a.count = count;
        a.sum = sum;
        a.min = min;
        a.max = max;
        a.counter = counter;
        a.last = last;
        emit(nextT, a);
      }
      count = 0;
      sum = 0;
      min = Number.MAX_VALUE;
      max = -Number.MAX_VALUE;
      nextT = Math.min(windowEnd(t, res), lastT);
    }
    const v = vs[i]!;
    if (total > 0) counter += v < last ? v : v - last;
    else counter = v;
    last = v;
    sum += v;
    count++;
    total++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  a.total = total;
  a.count = count;
  a.sum = sum;
  a.min = min;
  a.max = max;
  a.counter = counter;
  a.last = last;
  if (total > 0) emit(nextT, a);
  return nextT;
}

/**
 * Appends the samples of an XOR chunk to `out`, dropping stale markers and
 * samples that go back in time within the chunk (Thanos' expandXorChunkIterator).
 */
export function expandXor(it: XorIterator | AggrIterator | CounterSeriesIterator, out: SampleBuffer): void {
  let lastT = 0;
  while (it.next() !== ValueType.None) {
    const t = it.atT();
    const v = it.at();
    if (isStaleNaN(v)) continue;
    if (t >= lastT) {
      out.push(t, v);
      lastT = t;
    }
  }
  const e = it.err();
  if (e !== undefined) throw e;
}

/**
 * expandXor for a whole XOR chunk at once: the chunk's samples are copied in
 * bulk, then stale markers and samples going back in time are squeezed out in
 * place. Same result, no call per sample.
 */
function expandXorChunk(it: XorIterator, bytes: Uint8Array, out: SampleBuffer): void {
  it.reset(bytes);
  if (it.next() === ValueType.None) {
    const e = it.err();
    if (e !== undefined) throw e;
    return;
  }
  out.reserve(it.numSamples);
  const from = out.n;
  const copied = it.copyFloats(out.t, out.v, from, out.t.length, Number.POSITIVE_INFINITY);
  const ts = out.t;
  const vs = out.v;
  let w = from;
  let lastT = 0;
  for (let r = from; r < from + copied; r++) {
    const t = ts[r]!;
    const v = vs[r]!;
    // NaN is the rare case; only then are the bits looked at.
    if (Number.isNaN(v) && isStaleNaN(v)) continue;
    if (t >= lastT) {
      ts[w] = t;
      vs[w] = v;
      w++;
      lastT = t;
    }
  }
  out.n = w;
  // Samples the bulk copy did not reach (none unless the chunk is cut short) end the iteration with its error.
  if (it.next() !== ValueType.None || it.err() !== undefined) {
    const e = it.err();
    if (e !== undefined) throw e;
  }
}

/** Reused state of a downsampler; one per thread of work. */
export class Downsampler {
  private readonly buf = new SampleBuffer();
  private readonly batch = new SampleBuffer();
  private readonly xor = new XorIterator();
  private readonly aggrIt = new AggrIterator();
  private readonly counterIt = new CounterSeriesIterator();
  private readonly view = new AggrChunkView();

  /**
   * Downsamples the raw XOR chunks of one series (in time order) to `res`;
   * the AggrChunks Thanos' DownsampleRaw writes. Non-float chunks throw `unsupported`.
   */
  raw(chunks: readonly SeriesChunk[], res: number): SeriesChunk[] {
    const buf = this.buf;
    buf.clear();
    for (const c of chunks) {
      if (c.encoding !== XOR_ENCODING) {
        throw new StorageError(
          StorageErrorCode.Unsupported,
          `downsample: chunk encoding ${c.encoding} is not XOR (native histograms are not downsampled yet)`,
        );
      }
      expandXorChunk(this.xor, c.bytes, buf);
    }
    return this.rawSamples(buf, res);
  }

  /** Downsamples raw samples (times ascending, stale markers removed) to `res`. */
  rawSamples(buf: SampleBuffer, res: number): SeriesChunk[] {
    const out: SeriesChunk[] = [];
    const n = buf.n;
    if (n === 0) return out;
    const numChunks = targetChunkCount(buf.t[0]!, buf.t[n - 1]!, ASSUMED_RAW_STEP, res, n);
    const batchSize = Math.trunc(n / numChunks) + 1;
    const batch = this.batch;
    let pos = 0;
    while (pos < n) {
      let end = pos + Math.min(batchSize, n - pos);
      const curW = windowEnd(buf.t[end - 1]!, res);
      // A batch runs to the end of the window its last sample falls in.
      while (end < n && buf.t[end]! <= curW) end++;
      let nan = false;
      for (let i = pos; i < end && !nan; i++) nan = Number.isNaN(buf.v[i]!);
      if (!nan) {
        out.push(rawBatch(buf, pos, end, res));
      } else {
        // NaN values leave the batch after its window was chosen, as in Thanos.
        batch.clear();
        for (let i = pos; i < end; i++) if (!Number.isNaN(buf.v[i]!)) batch.push(buf.t[i]!, buf.v[i]!);
        if (batch.n > 0) out.push(rawBatch(batch, 0, batch.n, res));
      }
      pos = end;
    }
    return out;
  }

  /**
   * Downsamples the chunks of one series of a downsampled block (AggrChunks,
   * in time order) from `inRes` to `res`, as Thanos does: XOR chunks found
   * there are first downsampled to 5m, empty ones dropped.
   */
  aggregated(chunks: readonly SeriesChunk[], inRes: number, res: number): SeriesChunk[] {
    const fixed: SeriesChunk[] = [];
    for (const c of chunks) {
      if (c.encoding === AGGR_ENCODING) {
        fixed.push(c);
        continue;
      }
      if (c.encoding !== XOR_ENCODING) {
        throw new StorageError(
          StorageErrorCode.Unsupported,
          `downsample: chunk encoding ${c.encoding} is not read`,
        );
      }
      const n = c.bytes.length >= 2 ? (c.bytes[0]! << 8) | c.bytes[1]! : 0;
      if (n === 0) continue;
      fixed.push(...this.raw([c], RES_5M));
    }
    if (fixed.length === 0) return [];
    let numSamples = 0;
    for (const c of fixed) {
      this.view.reset(c.bytes);
      numSamples += this.view.numSamples();
    }
    const mint = fixed[0]!.minTime;
    const maxt = fixed[fixed.length - 1]!.maxTime;
    const numChunks = targetChunkCount(mint, maxt, inRes, res, numSamples);
    // Thanos groups floor(chunks / numChunks) chunks; that is 0 (and Thanos
    // would not progress) only for more target chunks than input chunks,
    // which its sizing never gives; one chunk per group is the sane reading.
    const groupSize = Math.max(1, Math.trunc(fixed.length / numChunks));
    const out: SeriesChunk[] = [];
    for (let i = 0; i < fixed.length; i += groupSize) {
      out.push(this.aggrBatch(fixed.slice(i, i + groupSize), res));
    }
    return out;
  }

  /** One group of AggrChunks to one AggrChunk (Thanos' downsampleFloatAggrBatch). */
  private aggrBatch(group: readonly SeriesChunk[], res: number): SeriesChunk {
    const parts: (AggrPart | undefined)[] = new Array(AGGR_TYPES).fill(undefined);
    let mint = Number.POSITIVE_INFINITY;
    let maxt = Number.NEGATIVE_INFINITY;
    const span = (t: number): void => {
      if (t < mint) mint = t;
      if (t > maxt) maxt = t;
    };
    const pick: [AggrType, (a: Aggregator) => number][] = [
      // A count of counts is their sum.
      [AggrType.Count, (a) => a.sum],
      [AggrType.Sum, (a) => a.sum],
      [AggrType.Min, (a) => a.min],
      [AggrType.Max, (a) => a.max],
    ];
    const buf = this.buf;
    for (const [type, f] of pick) {
      buf.clear();
      for (const c of group) {
        this.aggrIt.reset(c.bytes, type);
        expandXor(this.aggrIt, buf);
      }
      if (buf.n === 0) continue;
      const app = new XorAppender();
      aggregateWindows(buf, 0, buf.n, res, new Aggregator(), (t, a) => {
        span(t);
        app.append(t, f(a));
      });
      parts[type] = { encoding: XOR_ENCODING, bytes: app.bytes() };
    }
    buf.clear();
    this.counterIt.reset(group.map((c) => c.bytes));
    expandXor(this.counterIt, buf);
    if (buf.n > 0) {
      const app = new XorAppender();
      // The first raw value, then the windows, then the true last raw value.
      app.append(buf.t[0]!, buf.v[0]!);
      const lastT = aggregateWindows(buf, 0, buf.n, res, new Aggregator(), (t, a) => {
        span(t);
        app.append(t, a.counter);
      });
      app.append(lastT, this.counterIt.lastRaw);
      parts[AggrType.Counter] = { encoding: XOR_ENCODING, bytes: app.bytes() };
    }
    if (mint === Number.POSITIVE_INFINITY) {
      throw new StorageError(
        StorageErrorCode.Corrupt,
        'downsample: a group of aggregate chunks holds no samples (invalid range for the downsampled chunk)',
      );
    }
    return { minTime: mint, maxTime: maxt, encoding: AGGR_ENCODING, bytes: encodeAggrChunk(parts) };
  }
}

/** Samples [from, to) of a buffer to one AggrChunk (Thanos' downsampleFloatBatch). */
function rawBatch(batch: SampleBuffer, from: number, to: number, res: number): SeriesChunk {
  const apps = [
    new XorAppender(),
    new XorAppender(),
    new XorAppender(),
    new XorAppender(),
    new XorAppender(),
  ];
  const counter = apps[AggrType.Counter]!;
  counter.append(batch.t[from]!, batch.v[from]!);
  let mint = Number.POSITIVE_INFINITY;
  let maxt = Number.NEGATIVE_INFINITY;
  const lastT = aggregateWindows(batch, from, to, res, new Aggregator(), (t, a) => {
    if (t < mint) mint = t;
    if (t > maxt) maxt = t;
    apps[AggrType.Count]!.append(t, a.count);
    apps[AggrType.Sum]!.append(t, a.sum);
    apps[AggrType.Min]!.append(t, a.min);
    apps[AggrType.Max]!.append(t, a.max);
    counter.append(t, a.counter);
  });
  counter.append(lastT, batch.v[to - 1]!);
  const bytes = encodeAggrChunk(apps.map((a) => ({ encoding: XOR_ENCODING, bytes: a.bytes() })));
  return { minTime: mint, maxTime: maxt, encoding: AGGR_ENCODING, bytes };
}
