import {
  type FloatHistogram,
  type Labels,
  type Matcher,
  type SampleIterator,
  ValueType,
} from '@promstream/storage';
import type { Querier, SelectHints, Series } from '../../src/querier.js';

/** A float-only iterator over two arrays, for tests. */
export class ArrayIterator implements SampleIterator {
  private i = -1;
  constructor(
    private readonly ts: ArrayLike<number>,
    private readonly vs: ArrayLike<number>,
  ) {}
  next(): ValueType {
    this.i++;
    return this.i < this.ts.length ? ValueType.Float : ValueType.None;
  }
  seek(t: number): ValueType {
    if (this.i < 0) this.i = 0;
    while (this.i < this.ts.length && this.ts[this.i]! < t) this.i++;
    return this.i < this.ts.length ? ValueType.Float : ValueType.None;
  }
  atT(): number {
    return this.ts[this.i]!;
  }
  at(): number {
    return this.vs[this.i]!;
  }
  atHistogram(): FloatHistogram {
    throw new Error('float samples only');
  }
  err(): Error | undefined {
    return undefined;
  }
}

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
