import {
  compareLabels,
  type FloatHistogram,
  type Labels,
  labelsKey,
  type Matcher,
} from '@promstream/storage';
import { ArrayIterator } from './array-iterator.js';
import type { Querier, SelectHints, Series } from './querier.js';

/**
 * An in-memory `Querier`: series appended sample by sample, kept in time
 * order in growable typed arrays. The conformance runner and engine tests
 * load their data here.
 */

class StoredSeries {
  t = new Float64Array(8);
  f = new Float64Array(8);
  h: (FloatHistogram | undefined)[] = [];
  n = 0;
  constructor(readonly labels: Labels) {}

  append(t: number, f: number, h: FloatHistogram | undefined): void {
    // Out-of-order appends are inserted in place; a repeated time replaces the sample.
    let pos = this.n;
    while (pos > 0 && (this.t[pos - 1] as number) > t) pos--;
    if (pos > 0 && this.t[pos - 1] === t) {
      this.f[pos - 1] = f;
      this.h[pos - 1] = h;
      return;
    }
    if (this.n === this.t.length) {
      const nt = new Float64Array(this.n * 2);
      nt.set(this.t);
      this.t = nt;
      const nf = new Float64Array(this.n * 2);
      nf.set(this.f);
      this.f = nf;
    }
    this.t.copyWithin(pos + 1, pos, this.n);
    this.f.copyWithin(pos + 1, pos, this.n);
    this.h.splice(pos, 0, h);
    this.t[pos] = t;
    this.f[pos] = f;
    this.n++;
  }
}

/** A querier over series held in memory. */
export class MemoryQuerier implements Querier {
  private readonly series = new Map<string, StoredSeries>();

  private get(labels: Labels): StoredSeries {
    const sorted = [...labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const key = labelsKey(sorted);
    let s = this.series.get(key);
    if (!s) {
      s = new StoredSeries(sorted);
      this.series.set(key, s);
    }
    return s;
  }

  /** Appends a float sample (time in milliseconds). */
  appendFloat(labels: Labels, t: number, v: number): void {
    this.get(labels).append(t, v, undefined);
  }

  /** Appends a native histogram sample. */
  appendHistogram(labels: Labels, t: number, h: FloatHistogram): void {
    this.get(labels).append(t, 0, h);
  }

  /** Removes every series. */
  clear(): void {
    this.series.clear();
  }

  private matching(hints: SelectHints, matchers: readonly Matcher[]): StoredSeries[] {
    const out: StoredSeries[] = [];
    for (const s of this.series.values()) {
      if (!matchers.every((m) => m.matches(s.labels.find((l) => l.name === m.name)?.value ?? ''))) continue;
      // First sample at or after mint, by binary search.
      let lo = 0;
      let hi = s.n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((s.t[mid] as number) < hints.mint) lo = mid + 1;
        else hi = mid;
      }
      if (lo < s.n && (s.t[lo] as number) <= hints.maxt) out.push(s);
    }
    return out.sort((a, b) => compareLabels(a.labels, b.labels));
  }

  async select(hints: SelectHints, matchers: readonly Matcher[]): Promise<Series[]> {
    return this.matching(hints, matchers).map((s) => {
      const n = s.n;
      return { labels: s.labels, iterator: () => new ArrayIterator(s.t, s.f, n, s.h) };
    });
  }

  async labelNames(hints: SelectHints, matchers: readonly Matcher[]): Promise<string[]> {
    const names = new Set<string>();
    const list = matchers.length > 0 ? this.matching(hints, matchers) : this.matching(hints, []);
    for (const s of list) for (const l of s.labels) names.add(l.name);
    return [...names].sort();
  }

  async labelValues(hints: SelectHints, name: string, matchers: readonly Matcher[]): Promise<string[]> {
    const values = new Set<string>();
    for (const s of this.matching(hints, matchers)) {
      const v = s.labels.find((l) => l.name === name)?.value;
      if (v !== undefined) values.add(v);
    }
    return [...values].sort();
  }
}
