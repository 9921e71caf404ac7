import {
  compareLabels,
  type FloatHistogram,
  type Labels,
  labelsKey,
  type Matcher,
  type SampleIterator,
  ValueType,
} from '@promstream/storage';
import type { Querier, SelectHints, Series } from './querier.js';

export { compareLabels, labelsKey } from '@promstream/storage';

/**
 * A querier over several queriers (the log-tail head and the blocks, or
 * blocks of overlapping time ranges): series with the same labels become
 * one series whose samples are the union of theirs, one sample per
 * timestamp. Where two sources hold a sample at the same time, the one from
 * the querier listed first wins, so callers list the most authoritative
 * source first.
 */
export class MergeQuerier implements Querier {
  constructor(private readonly queriers: readonly Querier[]) {}

  async select(hints: SelectHints, matchers: readonly Matcher[]): Promise<Series[]> {
    if (this.queriers.length === 1) return this.queriers[0]!.select(hints, matchers);
    const lists = await Promise.all(this.queriers.map((q) => q.select(hints, matchers)));
    const byKey = new Map<string, { labels: Labels; parts: Series[]; order: number[] }>();
    lists.forEach((list, source) => {
      for (const s of list) {
        const key = labelsKey(s.labels);
        let entry = byKey.get(key);
        if (entry === undefined) byKey.set(key, (entry = { labels: s.labels, parts: [], order: [] }));
        entry.parts.push(s);
        entry.order.push(source);
      }
    });
    const merged: Series[] = [];
    for (const { labels, parts } of byKey.values()) {
      if (parts.length === 1) merged.push(parts[0]!);
      else merged.push({ labels, iterator: () => new MergeIterator(parts.map((p) => p.iterator())) });
    }
    return merged.sort((a, b) => compareLabels(a.labels, b.labels));
  }

  async labelNames(hints: SelectHints, matchers: readonly Matcher[]): Promise<string[]> {
    const lists = await Promise.all(this.queriers.map((q) => q.labelNames(hints, matchers)));
    return sortedUnion(lists);
  }

  async labelValues(hints: SelectHints, name: string, matchers: readonly Matcher[]): Promise<string[]> {
    const lists = await Promise.all(this.queriers.map((q) => q.labelValues(hints, name, matchers)));
    return sortedUnion(lists);
  }
}

/**
 * Merges sample iterators by time. When several are on the same timestamp
 * the lowest-numbered one is reported and the others skip that sample.
 * No allocation per sample: it only compares the sources' current times.
 */
export class MergeIterator implements SampleIterator {
  private readonly types: ValueType[];
  private cur = -1;
  private started = false;

  constructor(private readonly its: readonly SampleIterator[]) {
    this.types = its.map(() => ValueType.None);
  }

  next(): ValueType {
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < this.its.length; i++) this.types[i] = this.its[i]!.next();
      return this.pick();
    }
    if (this.cur < 0) return ValueType.None;
    const t = this.its[this.cur]!.atT();
    for (let i = 0; i < this.its.length; i++) {
      if (this.types[i] !== ValueType.None && this.its[i]!.atT() === t) this.types[i] = this.its[i]!.next();
    }
    return this.pick();
  }

  seek(t: number): ValueType {
    if (this.started && this.cur >= 0 && this.its[this.cur]!.atT() >= t) return this.types[this.cur]!;
    if (this.started && this.cur < 0) return ValueType.None;
    for (let i = 0; i < this.its.length; i++) {
      const it = this.its[i]!;
      if (!this.started || (this.types[i] !== ValueType.None && it.atT() < t)) this.types[i] = it.seek(t);
    }
    this.started = true;
    return this.pick();
  }

  private pick(): ValueType {
    let best = -1;
    let bestT = 0;
    for (let i = 0; i < this.its.length; i++) {
      if (this.types[i] === ValueType.None) continue;
      const t = this.its[i]!.atT();
      if (best < 0 || t < bestT) {
        best = i;
        bestT = t;
      }
    }
    this.cur = best;
    return best < 0 ? ValueType.None : this.types[best]!;
  }

  atT(): number {
    return this.its[this.cur]!.atT();
  }

  at(): number {
    return this.its[this.cur]!.at();
  }

  atHistogram(): FloatHistogram {
    return this.its[this.cur]!.atHistogram();
  }

  err(): Error | undefined {
    for (const it of this.its) {
      const e = it.err();
      if (e !== undefined) return e;
    }
    return undefined;
  }
}

function sortedUnion(lists: readonly string[][]): string[] {
  if (lists.length === 1) return lists[0]!;
  const set = new Set<string>();
  for (const list of lists) for (const v of list) set.add(v);
  return [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
