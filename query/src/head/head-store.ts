import type { Labels, Matcher } from '@promstream/storage';
import { ArrayIterator } from '../array-iterator.js';
import { compareLabels, labelsKey } from '../merge-querier.js';
import type { Querier, SelectHints, Series } from '../querier.js';

/**
 * The query tier's in-memory head: the samples read from the log that no
 * block covers yet, per tenant and series. Appends keep each series sorted
 * with one sample per timestamp (the first to arrive wins, as in the block
 * builder), and a block's arrival drops what it covers.
 */
export class HeadStore {
  private readonly tenants = new Map<string, TenantSeries>();

  /**
   * Appends samples of one series read from `partition`; drops those before
   * `lowerBound` and after `upperBound`. Returns how many were kept.
   */
  append(
    partition: number,
    tenant: string,
    labels: Labels,
    t: ArrayLike<number>,
    v: ArrayLike<number>,
    lowerBound: number,
    upperBound = Number.POSITIVE_INFINITY,
  ): number {
    let series = this.tenants.get(tenant);
    if (series === undefined) this.tenants.set(tenant, (series = new TenantSeries()));
    const key = labelsKey(labels);
    let s = series.get(key);
    if (s === undefined) series.set(key, (s = new HeadSeries(labels, partition)));
    let kept = 0;
    for (let i = 0; i < t.length; i++) {
      if (t[i]! < lowerBound || t[i]! > upperBound) continue;
      if (s.add(t[i]!, v[i]!)) kept++;
    }
    if (s.length === 0) series.delete(key);
    return kept;
  }

  /** Drops every sample of `partition`'s series before `boundary` (a block now covers them). */
  truncate(partition: number, boundary: number): void {
    for (const series of this.tenants.values()) {
      for (const [key, s] of [...series.entries()]) {
        if (s.partition !== partition) continue;
        s.dropBefore(boundary);
        if (s.length === 0) series.delete(key);
      }
    }
  }

  /** Number of samples held. */
  samples(): number {
    let n = 0;
    for (const series of this.tenants.values()) for (const s of series.values()) n += s.length;
    return n;
  }

  /** A querier over one tenant's head. */
  querier(tenant: string): Querier {
    return new HeadQuerier(() => this.tenants.get(tenant));
  }
}

/**
 * One tenant's series by key, with postings (the series of each label
 * name and value) so a selector with an equality matcher reads only the
 * series it names instead of every series of the tenant.
 */
class TenantSeries {
  private readonly byKey = new Map<string, HeadSeries>();
  private readonly postings = new Map<string, Set<HeadSeries>>();

  get(key: string): HeadSeries | undefined {
    return this.byKey.get(key);
  }

  set(key: string, s: HeadSeries): void {
    this.byKey.set(key, s);
    for (const l of s.labels) {
      const k = `${l.name}\xff${l.value}`;
      let set = this.postings.get(k);
      if (set === undefined) this.postings.set(k, (set = new Set()));
      set.add(s);
    }
  }

  delete(key: string): void {
    const s = this.byKey.get(key);
    if (s === undefined) return;
    this.byKey.delete(key);
    for (const l of s.labels) {
      const k = `${l.name}\xff${l.value}`;
      const set = this.postings.get(k);
      set?.delete(s);
      if (set?.size === 0) this.postings.delete(k);
    }
  }

  entries(): IterableIterator<[string, HeadSeries]> {
    return this.byKey.entries();
  }

  values(): IterableIterator<HeadSeries> {
    return this.byKey.values();
  }

  /** The fewest series that can match: the smallest postings list of an equality matcher, else all. */
  candidates(matchers: readonly Matcher[]): Iterable<HeadSeries> {
    let best: Set<HeadSeries> | undefined;
    for (const m of matchers) {
      if (m.type !== '=' || m.value === '') continue;
      const set = this.postings.get(`${m.name}\xff${m.value}`);
      if (set === undefined) return [];
      if (best === undefined || set.size < best.size) best = set;
    }
    return best ?? this.byKey.values();
  }
}

class HeadSeries {
  t = new Float64Array(8);
  v = new Float64Array(8);
  length = 0;

  constructor(
    readonly labels: Labels,
    readonly partition: number,
  ) {}

  /** Adds one sample; false when one with the same time exists. Never changes arrays a reader holds in place. */
  add(t: number, v: number): boolean {
    const n = this.length;
    if (n === 0 || t > this.t[n - 1]!) {
      if (n === this.t.length) this.resize(n * 2);
      this.t[n] = t;
      this.v[n] = v;
      this.length = n + 1;
      return true;
    }
    // Late sample: find its place; copy so readers keep a consistent snapshot.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.t[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    if (lo < n && this.t[lo] === t) return false;
    const nt = new Float64Array(Math.max(8, n * 2));
    const nv = new Float64Array(nt.length);
    nt.set(this.t.subarray(0, lo));
    nv.set(this.v.subarray(0, lo));
    nt[lo] = t;
    nv[lo] = v;
    nt.set(this.t.subarray(lo, n), lo + 1);
    nv.set(this.v.subarray(lo, n), lo + 1);
    this.t = nt;
    this.v = nv;
    this.length = n + 1;
    return true;
  }

  dropBefore(boundary: number): void {
    let i = 0;
    while (i < this.length && this.t[i]! < boundary) i++;
    if (i === 0) return;
    const n = this.length - i;
    const nt = new Float64Array(Math.max(8, n * 2));
    const nv = new Float64Array(nt.length);
    nt.set(this.t.subarray(i, this.length));
    nv.set(this.v.subarray(i, this.length));
    this.t = nt;
    this.v = nv;
    this.length = n;
  }

  private resize(capacity: number): void {
    const nt = new Float64Array(capacity);
    const nv = new Float64Array(capacity);
    nt.set(this.t);
    nv.set(this.v);
    this.t = nt;
    this.v = nv;
  }
}

class HeadQuerier implements Querier {
  constructor(private readonly series: () => TenantSeries | undefined) {}

  private matching(hints: SelectHints, matchers: readonly Matcher[]): HeadSeries[] {
    const out: HeadSeries[] = [];
    const all = this.series();
    if (all === undefined) return out;
    // Many series share a value: each matcher runs once per distinct value, as over an index.
    const seen = matchers.map(() => new Map<string, boolean>());
    const matches = (k: number, value: string): boolean => {
      let ok = seen[k]!.get(value);
      if (ok === undefined) seen[k]!.set(value, (ok = matchers[k]!.matches(value)));
      return ok;
    };
    for (const s of all.candidates(matchers)) {
      if (s.length === 0 || s.t[0]! > hints.maxt || s.t[s.length - 1]! < hints.mint) continue;
      let ok = true;
      for (let k = 0; k < matchers.length && ok; k++)
        ok = matches(k, s.labels.find((l) => l.name === matchers[k]!.name)?.value ?? '');
      if (ok) out.push(s);
    }
    return out.sort((a, b) => compareLabels(a.labels, b.labels));
  }

  async select(hints: SelectHints, matchers: readonly Matcher[]): Promise<Series[]> {
    return this.matching(hints, matchers).map((s) => {
      // A snapshot: later appends write past `length` or into new arrays.
      const t = s.t;
      const v = s.v;
      const n = s.length;
      return { labels: s.labels, iterator: () => new ArrayIterator(t, v, n) };
    });
  }

  async labelNames(hints: SelectHints, matchers: readonly Matcher[]): Promise<string[]> {
    const names = new Set<string>();
    for (const s of this.matching(hints, matchers)) for (const l of s.labels) names.add(l.name);
    return [...names].sort();
  }

  async labelValues(hints: SelectHints, name: string, matchers: readonly Matcher[]): Promise<string[]> {
    const values = new Set<string>();
    for (const s of this.matching(hints, matchers)) {
      const v = s.labels.find((l) => l.name === name)?.value;
      if (v !== undefined && v !== '') values.add(v);
    }
    return [...values].sort();
  }
}
