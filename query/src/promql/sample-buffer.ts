import { type FloatHistogram, isStaleNaN, type SampleIterator, ValueType } from '@promstream/storage';
import { EngineError } from '../engine-types.js';
import { copyH } from './histogram.js';
import type { RangeSeries } from './values.js';

/**
 * Reading one series' samples for a range into reusable typed buffers, and
 * dropping staleness markers from them.
 */

/** A growable buffer of one series' samples; `h` is set only when it has histograms. */
export interface SampleBuffer {
  t: Float64Array;
  f: Float64Array;
  h: (FloatHistogram | undefined)[] | null;
}

/**
 * Reads an iterator's samples in [mint, maxt] into `buf` from index 0,
 * growing it as needed, and returns how many. Histograms are copied (an
 * iterator may reuse its histogram object for the next sample).
 */
export function readSamples(it: SampleIterator, mint: number, maxt: number, buf: SampleBuffer): number {
  const copier = it.copyFloats;
  buf.h = null;
  let n = 0;
  let vt = it.seek(mint);
  while (vt !== ValueType.None) {
    const st = it.atT();
    if (st > maxt) break;
    if (n === buf.t.length) {
      const nt = new Float64Array(n * 2);
      nt.set(buf.t);
      buf.t = nt;
      const nf = new Float64Array(n * 2);
      nf.set(buf.f);
      buf.f = nf;
    }
    if (vt === ValueType.Float && copier !== undefined) {
      const c = copier.call(it, buf.t, buf.f, n, buf.t.length, maxt);
      if (c === 0) break;
      n += c;
      vt = it.next();
      continue;
    }
    buf.t[n] = st;
    if (vt === ValueType.Float) buf.f[n] = it.at();
    else {
      if (!buf.h) buf.h = [];
      buf.h[n] = copyH(it.atHistogram());
      buf.f[n] = 0;
    }
    n++;
    vt = it.next();
  }
  const err = it.err();
  if (err) throw new EngineError('execution', `read series: ${err.message}`, { cause: err });
  return n;
}

/** Removes staleness markers from the first n samples of a buffer; returns how many are left. */
export function dropStaleInPlace(buf: SampleBuffer, n: number): number {
  const { t, f, h } = buf;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const hist = h?.[i];
    if (!hist && isStaleNaN(f[i] as number)) continue;
    if (k !== i) {
      t[k] = t[i] as number;
      f[k] = f[i] as number;
      if (h) h[k] = hist;
    }
    k++;
  }
  if (h && k < n) h.length = k;
  return k;
}

/** The range without its staleness markers (the same object when it has none). */
export function dropStale(r: RangeSeries): RangeSeries {
  let stale = 0;
  for (let i = 0; i < r.n; i++) if (!r.h?.[i] && isStaleNaN(r.f[i] as number)) stale++;
  if (stale === 0) return r;
  const n = r.n - stale;
  const t = new Float64Array(n);
  const f = new Float64Array(n);
  const h: (FloatHistogram | undefined)[] | null = r.h ? new Array(n) : null;
  let k = 0;
  for (let i = 0; i < r.n; i++) {
    const hist = r.h?.[i];
    if (!hist && isStaleNaN(r.f[i] as number)) continue;
    t[k] = r.t[i] as number;
    f[k] = r.f[i] as number;
    if (h) h[k] = hist;
    k++;
  }
  return { labels: r.labels, t, f, h, n, dropName: r.dropName };
}
