import type { Labels, Matcher } from '@promstream/storage';
import { ArrayIterator } from '../../src/array-iterator.js';
import type { Querier, SelectHints, Series } from '../../src/querier.js';

/** One test series: sorted labels and its samples. */
export interface ArraySeries {
  labels: Labels;
  ts: number[];
  vs: number[];
}

/** Builds sorted labels from an object. */
export function labelsOf(obj: Record<string, string>): Labels {
  return Object.entries(obj)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function matchesAll(labels: Labels, matchers: readonly Matcher[]): boolean {
  return matchers.every((m) => m.matches(labels.find((l) => l.name === m.name)?.value ?? ''));
}

/** A querier over fixed in-memory series, for tests of the API and the role. */
export class ArrayQuerier implements Querier {
  constructor(private readonly series: ArraySeries[]) {}

  private inRange(hints: SelectHints, matchers: readonly Matcher[]): ArraySeries[] {
    return this.series
      .filter((s) => matchesAll(s.labels, matchers) && s.ts.some((t) => t >= hints.mint && t <= hints.maxt))
      .sort((a, b) => (JSON.stringify(a.labels) < JSON.stringify(b.labels) ? -1 : 1));
  }

  async select(hints: SelectHints, matchers: readonly Matcher[]): Promise<Series[]> {
    return this.inRange(hints, matchers).map((s) => ({
      labels: s.labels,
      iterator: () => new ArrayIterator(s.ts, s.vs),
    }));
  }

  async labelNames(hints: SelectHints, matchers: readonly Matcher[]): Promise<string[]> {
    const names = new Set<string>();
    for (const s of this.inRange(hints, matchers)) for (const l of s.labels) names.add(l.name);
    return [...names].sort();
  }

  async labelValues(hints: SelectHints, name: string, matchers: readonly Matcher[]): Promise<string[]> {
    const values = new Set<string>();
    for (const s of this.inRange(hints, matchers)) {
      const v = s.labels.find((l) => l.name === name)?.value;
      if (v !== undefined) values.add(v);
    }
    return [...values].sort();
  }
}
