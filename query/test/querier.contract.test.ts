/**
 * The contract every `Querier` keeps (the seam declared in storage's
 * model.ts), checked by one suite run against every implementation: the
 * memory querier, the head, the block querier (one block, disjoint blocks,
 * overlapping blocks, and the role's path through the bucket catalog with
 * the selection cache), the merge querier, and the evaluation thread's view
 * through the selection codec. Each is loaded with the same series; the
 * expected answers are computed from those series by a plain reference.
 */
import {
  BucketCatalog,
  compareLabels,
  encodeXorChunk,
  isStaleNaN,
  type Labels,
  type Matcher,
  MemoryObjectStore,
  newMatcher,
  type Querier,
  type SampleIterator,
  type SelectHints,
  type Series,
  STALE_NAN,
  ValueType,
  writeBlock,
} from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import { BlockQuerier, type QueryableBlock } from '../src/blocks/block-querier.js';
import { catalogBlockLister } from '../src/blocks/catalog-lister.js';
import { SelectionCache } from '../src/blocks/selection-cache.js';
import { openStorageBlock } from '../src/blocks/storage-block.js';
import { TenantBlocks } from '../src/blocks/tenant-blocks.js';
import { decodeSelection, encodeSelection, selectionTransfer } from '../src/evaluation/selection-codec.js';
import { HeadStore } from '../src/head/index.js';
import { MemoryQuerier } from '../src/memory-querier.js';
import { MergeQuerier } from '../src/merge-querier.js';

/** One series of the data every querier is loaded with. */
interface Stored {
  labels: Labels;
  t: number[];
  v: number[];
}

const H = 3_600_000;
/** A multiple of two hours, so block boundaries fall at T0 + 2h. */
const T0 = 1_699_999_200_000;
const END = T0 + 4 * H;

function lbls(o: Record<string, string>): Labels {
  return Object.keys(o)
    .sort()
    .map((name) => ({ name, value: o[name]! }));
}

function every(
  labels: Record<string, string>,
  from: number,
  to: number,
  step: number,
  f: (i: number) => number,
) {
  const s: Stored = { labels: lbls(labels), t: [], v: [] };
  for (let t = from, i = 0; t < to; t += step, i++) {
    s.t.push(t);
    s.v.push(f(i));
  }
  return s;
}

/** The data: series of different densities and spans, one stale marker, labels a matcher can miss. */
const DATA: Stored[] = [
  every({ __name__: 'up', job: 'api', instance: 'a' }, T0, END, 15_000, (i) => i % 7),
  every({ __name__: 'up', job: 'api', instance: 'b' }, T0 + H, T0 + 3 * H, 30_000, (i) => (i % 3) / 10),
  every({ __name__: 'up', job: 'db', instance: 'c' }, T0, END, 60_000, (i) => (i === 100 ? STALE_NAN : -i)),
  every({ __name__: 'http_requests_total', job: 'api', code: '200' }, T0, END, 15_000, (i) => i * 1.5),
  {
    labels: lbls({ __name__: 'http_requests_total', job: 'api', code: '500', env: 'prod' }),
    t: [T0 + 600_000, T0 + 2 * H - 1, T0 + 2 * H, T0 + 2 * H + 1, END - 1],
    v: [1, 2, 3, 4, 5],
  },
  every({ __name__: 'early' }, T0, T0 + 600_001, 10_000, (i) => 1e300 * i),
  every({ __name__: 'late', job: 'db' }, END - 600_000, END, 1_000, (i) => Math.sin(i)),
  every({ __name__: 'weird', path: '/é/π', le: '+Inf' }, T0 + 5, END, 7 * 60_000, () => Number.NaN),
];

/** How a sample is compared: staleness markers and other NaNs by name. */
type Sample = [number, number | 'stale' | 'NaN'];

function sample(t: number, v: number): Sample {
  return [t, isStaleNaN(v) ? 'stale' : Number.isNaN(v) ? 'NaN' : v];
}

function inRange(s: Stored, mint: number, maxt: number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < s.t.length; i++)
    if (s.t[i]! >= mint && s.t[i]! <= maxt) out.push(sample(s.t[i]!, s.v[i]!));
  return out;
}

function matches(s: Stored, matchers: readonly Matcher[]): boolean {
  return matchers.every((m) => m.matches(s.labels.find((l) => l.name === m.name)?.value ?? ''));
}

/** Reads an iterator as the engine does: seek to mint, stop past maxt. */
function read(it: SampleIterator, mint: number, maxt: number): Sample[] {
  const out: Sample[] = [];
  for (let vt = it.seek(mint); vt !== ValueType.None; vt = it.next()) {
    if (it.atT() > maxt) break;
    expect(vt).toBe(ValueType.Float);
    out.push(sample(it.atT(), it.at()));
  }
  expect(it.err()).toBeUndefined();
  return out;
}

/** Reads an iterator through its bulk copy (where it offers one) in windows of `window` slots. */
function readBulk(it: SampleIterator, mint: number, maxt: number, window: number): Sample[] {
  const t = new Float64Array(4096);
  const f = new Float64Array(4096);
  let n = 0;
  for (let vt = it.seek(mint); vt !== ValueType.None; vt = it.next()) {
    if (it.atT() > maxt) break;
    const c = it.copyFloats!(t, f, n, Math.min(n + window, t.length), maxt);
    expect(c).toBeGreaterThan(0);
    n += c;
  }
  expect(it.err()).toBeUndefined();
  return Array.from({ length: n }, (_, i) => sample(t[i]!, f[i]!));
}

/** Samples of the data in [mint, maxt], by series, for the series that match. */
function reference(data: readonly Stored[], matchers: readonly Matcher[], mint: number, maxt: number) {
  return data
    .filter((s) => matches(s, matchers))
    .map((s) => ({ labels: s.labels, samples: inRange(s, mint, maxt) }))
    .sort((a, b) => compareLabels(a.labels, b.labels));
}

const key = (l: Labels): string => l.map((x) => `${x.name}=${x.value}`).join(',');

/**
 * Checks a select against the reference: every matching series with samples in
 * the range, with exactly those samples; a returned series with none in the
 * range must match and have samples on both sides of it (a chunk or a span
 * that crosses the range); no series whose samples all lie on one side.
 */
async function expectSelect(
  q: Querier,
  data: readonly Stored[],
  matchers: Matcher[],
  mint: number,
  maxt: number,
) {
  const got = await q.select({ mint, maxt }, matchers);
  const want = reference(data, matchers, mint, maxt);
  const byKey = new Map(want.map((w) => [key(w.labels), w]));
  const what = `${matchers.map((m) => `${m.name}${m.type}"${m.value}"`).join(',')} [${mint - T0}, ${maxt - T0}]`;
  for (const s of got) {
    const w = byKey.get(key(s.labels));
    expect(w, `${what}: ${key(s.labels)} does not match`).toBeDefined();
    const samples = read(s.iterator(), mint, maxt);
    expect(samples, `${what}: ${key(s.labels)}`).toEqual(w!.samples);
    if (samples.length === 0) {
      const d = data.find((x) => key(x.labels) === key(s.labels))!;
      expect(d.t[0]! < mint && d.t[d.t.length - 1]! > maxt, `${what}: ${key(s.labels)} lies outside`).toBe(
        true,
      );
    }
  }
  const gotKeys = new Set(got.map((s) => key(s.labels)));
  for (const w of want)
    if (w.samples.length > 0) expect(gotKeys.has(key(w.labels)), `${what}: ${key(w.labels)}`).toBe(true);
  return got;
}

/** What the suite needs to know of an implementation. */
interface Implementation {
  /** A querier holding exactly these series. */
  make(data: readonly Stored[]): Promise<Querier>;
  /** Whether its iterators offer bulk copy (so the suite insists on it). */
  bulk?: boolean;
}

const M = (type: '=' | '!=' | '=~' | '!~', name: string, value: string) => newMatcher(type, name, value);

function querierContract(name: string, impl: Implementation): void {
  describe(`Querier contract: ${name}`, () => {
    let q: Querier;
    const full: SelectHints = { mint: T0, maxt: END };
    const loaded = (async () => (q = await impl.make(DATA)))();

    it('selects by every matcher kind', async () => {
      await loaded;
      const cases: Matcher[][] = [
        [M('=', '__name__', 'up')],
        [M('=', '__name__', 'up'), M('!=', 'instance', 'a')],
        [M('=~', '__name__', 'up|http_.*')],
        [M('!~', 'job', 'api|db')],
        [M('=', 'env', ''), M('=', 'job', 'api')],
        [M('!=', 'env', '')],
        [M('=~', 'instance', 'a|c')],
        [M('=~', 'path', '.*π')],
        [M('=~', '__name__', '.+'), M('!=', 'job', 'api')],
        [M('!~', '__name__', 'up'), M('=~', 'code', '[25]00')],
      ];
      for (const matchers of cases) {
        expect(reference(DATA, matchers, T0, END).length, 'the case selects something').toBeGreaterThan(0);
        const got = await expectSelect(q, DATA, matchers, T0, END);
        expect(got.map((s) => key(s.labels))).toEqual(
          reference(DATA, matchers, T0, END).map((w) => key(w.labels)),
        );
      }
    });

    it('honours the time range, inclusive at both ends', async () => {
      await loaded;
      const all = [M('=~', '__name__', '.+')];
      const windows: [number, number][] = [
        [T0, T0],
        [END - 15_000, END - 15_000],
        [END - 1, END - 1],
        [T0 + 2 * H, T0 + 2 * H],
        [T0 + 2 * H - 1, T0 + 2 * H - 1],
        [T0 + 2 * H - 1, T0 + 2 * H + 1],
        [T0 + 15_001, T0 + 29_999],
        [T0 + 600_000, T0 + 600_000],
        [T0 + 600_001, T0 + 601_000],
        [T0 + H - 1, T0 + H + 30_000],
        [END - 600_000, END - 600_000],
        [T0 + 3 * H - 30_000, T0 + 3 * H],
      ];
      for (const [mint, maxt] of windows) await expectSelect(q, DATA, all, mint, maxt);
      // The edges themselves: a sample at mint and one at maxt are both read.
      const [s] = await q.select({ mint: T0 + 2 * H - 1, maxt: T0 + 2 * H + 1 }, [M('=', 'code', '500')]);
      expect(read(s!.iterator(), T0 + 2 * H - 1, T0 + 2 * H + 1).map((x) => x[1])).toEqual([2, 3, 4]);
    });

    it('returns series sorted by labels, each once', async () => {
      await loaded;
      for (const hints of [full, { mint: T0 + H, maxt: T0 + 3 * H }, { ...full, func: 'series' as const }]) {
        const got = await q.select(hints, [M('=~', '__name__', '.+')]);
        expect(got.length).toBeGreaterThan(1);
        for (let i = 1; i < got.length; i++)
          expect(compareLabels(got[i - 1]!.labels, got[i]!.labels)).toBeLessThan(0);
        for (const s of got) expect(s.labels.map((l) => l.name)).toEqual(s.labels.map((l) => l.name).sort());
      }
    });

    it('takes back finished and half-read iterators for reuse across series, and ignores foreign ones', async () => {
      await loaded;
      for (const [mint, maxt] of [
        [T0, END],
        [T0 + H + 1, T0 + 3 * H - 1],
      ] as const) {
        const list = await q.select({ mint, maxt }, [M('=~', '__name__', '.+')]);
        const fresh = list.map((s) => read(s.iterator(), mint, maxt));
        let prev: SampleIterator | undefined;
        list.forEach((s, i) => {
          prev = s.iterator(prev);
          expect(read(prev, mint, maxt), key(s.labels)).toEqual(fresh[i]);
        });
        // Half-read: two samples, then handed to the next series.
        prev = undefined;
        list.forEach((s, i) => {
          prev = s.iterator(prev);
          expect(read(prev, mint, maxt), key(s.labels)).toEqual(fresh[i]);
          prev = s.iterator(prev);
          prev.seek(mint);
          prev.next();
        });
        // Reading from the end of the list to the start, and with an iterator of another kind.
        prev = undefined;
        for (let i = list.length - 1; i >= 0; i--) {
          prev = list[i]!.iterator(prev);
          expect(read(prev, mint, maxt)).toEqual(fresh[i]);
        }
        const foreign: SampleIterator = {
          next: () => ValueType.None,
          seek: () => ValueType.None,
          atT: () => 0,
          at: () => 0,
          atHistogram: () => {
            throw new Error('none');
          },
          err: () => undefined,
        };
        list.forEach((s, i) => {
          expect(read(s.iterator(foreign), mint, maxt)).toEqual(fresh[i]);
        });
        // Two iterators of one series, without reuse, are independent.
        const a = list[0]!.iterator();
        const b = list[0]!.iterator();
        expect(fresh[0]!.length).toBeGreaterThan(0);
        a.seek(mint);
        expect(read(b, mint, maxt)).toEqual(fresh[0]);
        expect([sample(a.atT(), a.at())]).toEqual(fresh[0]!.slice(0, 1));
      }
    });

    it('gives the same samples through the bulk copy as through the iterator', async () => {
      await loaded;
      let offered = 0;
      for (const [mint, maxt] of [
        [T0, END],
        [T0 + 30 * 60_000 + 1, T0 + 2 * H + 1],
        [T0 + 2 * H, T0 + 2 * H],
      ] as const) {
        const list = await q.select({ mint, maxt }, [M('=~', '__name__', '.+')]);
        let prev: SampleIterator | undefined;
        for (const s of list) {
          const want = read(s.iterator(), mint, maxt);
          prev = s.iterator(prev);
          if (prev.copyFloats === undefined) continue;
          offered++;
          for (const window of [1, 7, 4096]) {
            expect(readBulk(s.iterator(), mint, maxt, window), `${key(s.labels)} window ${window}`).toEqual(
              want,
            );
          }
          expect(readBulk(prev, mint, maxt, 50), key(s.labels)).toEqual(want);
        }
      }
      if (impl.bulk) expect(offered, 'iterators that offer bulk copy').toBeGreaterThan(0);
    });

    it('hands over compressed chunks, where a series offers them, that hold its samples', async () => {
      await loaded;
      const list = await q.select(full, [M('=~', '__name__', '.+')]);
      for (const s of list) {
        if (s.chunks === undefined) continue;
        const decoded = decodeSelection(await encodeSelection([s], T0, END));
        expect(read(decoded[0]!.iterator(), T0, END)).toEqual(read(s.iterator(), T0, END));
        for (let i = 1; i < s.chunks.length; i++)
          expect(s.chunks[i]!.minTime).toBeGreaterThan(s.chunks[i - 1]!.maxTime);
      }
    });

    it('returns the same series for a labels-only select', async () => {
      await loaded;
      for (const hints of [full, { mint: T0 + 601_000, maxt: T0 + 700_000 }]) {
        const all = await q.select(hints, [M('=~', '__name__', '.+')]);
        const labelsOnly = await q.select({ ...hints, func: 'series' }, [M('=~', '__name__', '.+')]);
        // Labels-only selects may keep series that cross the range without a sample in it.
        const withSamples = all
          .filter((s) => read(s.iterator(), hints.mint, hints.maxt).length > 0)
          .map((s) => key(s.labels));
        const keys = labelsOnly.map((s) => key(s.labels));
        for (const k of withSamples) expect(keys).toContain(k);
        for (const k of keys) expect(all.map((s) => key(s.labels))).toContain(k);
      }
    });

    it('lists label names and values of the matching series', async () => {
      await loaded;
      for (const matchers of [[], [M('=', 'job', 'api')], [M('=~', '__name__', 'up|late')]]) {
        const series = reference(DATA, matchers, T0, END).filter((s) => s.samples.length > 0);
        const names = [...new Set(series.flatMap((s) => s.labels.map((l) => l.name)))].sort();
        expect(await q.labelNames(full, matchers)).toEqual(names);
        for (const name of ['__name__', 'job', 'instance', 'missing']) {
          const values = [
            ...new Set(series.flatMap((s) => s.labels.filter((l) => l.name === name).map((l) => l.value))),
          ];
          expect(await q.labelValues(full, name, matchers), name).toEqual(values.sort());
        }
      }
    });

    it('returns nothing when nothing matches or nothing is in range', async () => {
      await loaded;
      const all = [M('=~', '__name__', '.+')];
      expect(await q.select(full, [M('=', '__name__', 'absent')])).toEqual([]);
      expect(
        await q.select(full, [M('=', '__name__', 'up'), M('=', 'job', 'db'), M('=', 'instance', 'a')]),
      ).toEqual([]);
      expect(await q.select({ mint: T0 - H, maxt: T0 - 1 }, all)).toEqual([]);
      expect(await q.select({ mint: END, maxt: END + H }, all)).toEqual([]);
      expect(await q.select({ mint: END, maxt: END + H, func: 'series' }, all)).toEqual([]);
      expect(await q.labelValues(full, 'absent', [])).toEqual([]);
      const empty = await impl.make([]);
      expect(await empty.select(full, all)).toEqual([]);
      expect(await empty.labelNames(full, [])).toEqual([]);
      expect(await empty.labelValues(full, '__name__', [])).toEqual([]);
    });
  });
}

// ---- The implementations, each loaded with the data ----

function memory(data: readonly Stored[]): MemoryQuerier {
  const q = new MemoryQuerier();
  for (const s of data) for (let i = 0; i < s.t.length; i++) q.appendFloat(s.labels, s.t[i]!, s.v[i]!);
  return q;
}

function head(data: readonly Stored[]): Querier {
  const store = new HeadStore();
  data.forEach((s, k) => {
    store.append(k % 3, 't', s.labels, s.t, s.v, Number.NEGATIVE_INFINITY);
  });
  return store.querier('t');
}

/** The samples of each series in [from, to), cut into chunks of 120 as Prometheus' head cuts them. */
function blockSeries(data: readonly Stored[], from: number, to: number) {
  const out = [];
  for (const s of data) {
    const idx = s.t.flatMap((t, i) => (t >= from && t < to ? [i] : []));
    if (idx.length === 0) continue;
    const chunks = [];
    for (let i = 0; i < idx.length; i += 120) {
      const part = idx.slice(i, i + 120);
      const t = part.map((k) => s.t[k]!);
      const v = part.map((k) => s.v[k]!);
      chunks.push({ minTime: t[0]!, maxTime: t[t.length - 1]!, bytes: encodeXorChunk(t, v) });
    }
    out.push({ labels: s.labels, chunks });
  }
  return out;
}

/** Writes one block per range of the data into a bucket under tenant `t`. */
async function writeBlocks(store: MemoryObjectStore, data: readonly Stored[], ranges: [number, number][]) {
  const metas = [];
  for (const [from, to] of ranges) {
    metas.push(await writeBlock(store, 't', blockSeries(data, from, to), { minTime: from, maxTime: to }));
  }
  return metas;
}

async function blocks(data: readonly Stored[], ranges: [number, number][]): Promise<BlockQuerier> {
  const store = new MemoryObjectStore();
  const opened: QueryableBlock[] = [];
  for (const meta of await writeBlocks(store, data, ranges)) {
    opened.push(await openStorageBlock(store, `t/${meta.ulid}`, meta));
  }
  return new BlockQuerier(opened);
}

/** The query role's path: the bucket catalog, the tenant's block list, the selection cache. */
async function catalogBlocks(data: readonly Stored[]): Promise<Querier> {
  const store = new MemoryObjectStore();
  await writeBlocks(store, data, [
    [T0, T0 + 2 * H],
    [T0 + 2 * H, END],
  ]);
  const cache = new SelectionCache(64 * 1024 * 1024);
  const tenants = new TenantBlocks({
    list: catalogBlockLister(new BucketCatalog(store), (s, prefix, meta) =>
      openStorageBlock(s, prefix, meta, cache),
    ),
    refreshMs: 60_000,
  });
  return tenants.querier('t');
}

/** The series split between two sources: some in one, some in both with overlapping samples. */
function split(data: readonly Stored[], cut: number, overlap: number): [Stored[], Stored[]] {
  const a: Stored[] = [];
  const b: Stored[] = [];
  data.forEach((s, k) => {
    if (k % 4 === 0) {
      a.push(s);
      return;
    }
    if (k % 4 === 1) {
      b.push(s);
      return;
    }
    const part = (keep: (t: number) => boolean): Stored => ({
      labels: s.labels,
      t: s.t.filter(keep),
      v: s.v.filter((_, i) => keep(s.t[i]!)),
    });
    a.push(part((t) => t < cut + overlap));
    b.push(part((t) => t >= cut - overlap));
  });
  return [a.filter((s) => s.t.length > 0), b.filter((s) => s.t.length > 0)];
}

/** The evaluation thread's view of a querier: selections cross the selection codec, buffers transferred. */
function evaluationView(inner: Querier): Querier {
  return {
    async select(hints, matchers): Promise<Series[]> {
      const sel = await encodeSelection(
        await inner.select(hints, matchers),
        hints.mint,
        hints.maxt,
        hints.signal,
      );
      return decodeSelection(structuredClone(sel, { transfer: selectionTransfer(sel) }));
    },
    labelNames: (hints, matchers) => inner.labelNames(hints, matchers),
    labelValues: (hints, name, matchers) => inner.labelValues(hints, name, matchers),
  };
}

const CUT = T0 + 2 * H;

querierContract('memory', { make: async (data) => memory(data) });
querierContract('head', { make: async (data) => head(data) });
querierContract('block, one block', { make: (data) => blocks(data, [[T0, END]]), bulk: true });
querierContract('block, disjoint blocks (chained)', {
  make: (data) =>
    blocks(data, [
      [T0, T0 + H],
      [T0 + H, CUT],
      [CUT, END],
    ]),
  bulk: true,
});
querierContract('block, overlapping blocks (merged)', {
  make: async (data) => {
    const [a, b] = split(data, CUT, 20 * 60_000);
    const store = new MemoryObjectStore();
    // Both blocks span the whole range: every series of b overlaps a's in time.
    const metas = [
      ...(await writeBlocks(store, a, [[T0, END]])),
      ...(await writeBlocks(store, b, [[T0, END]])),
    ];
    return new BlockQuerier(await Promise.all(metas.map((m) => openStorageBlock(store, `t/${m.ulid}`, m))));
  },
});
querierContract('block, through the bucket catalog with the selection cache', {
  make: catalogBlocks,
  bulk: true,
});
querierContract('merge of head and blocks', {
  make: async (data) => {
    const [older, newer] = split(data, CUT, 15 * 60_000);
    return new MergeQuerier([head(newer), await blocks(older, [[T0, END]])]);
  },
  bulk: true,
});
querierContract('merge of two memory queriers', {
  make: async (data) => {
    const [a, b] = split(data, T0 + H, H);
    return new MergeQuerier([memory(a), memory(b)]);
  },
});
querierContract('evaluation thread view of head and blocks', {
  make: async (data) => {
    const [older, newer] = split(data, CUT, 15 * 60_000);
    return evaluationView(new MergeQuerier([head(newer), await catalogBlocks(older)]));
  },
  bulk: true,
});
