import type { BlockMeta, CatalogBlock } from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import {
  compactionGroups,
  DEFAULT_LEVELS,
  groupKey,
  planCompaction,
  planDownsampling,
  planRetention,
  RES_1H,
  RES_5M,
} from './planner.js';
import { supersededBlocks } from './superseded.js';

const H = 3600 * 1000;
let seq = 0;

function block(
  minH: number,
  maxH: number,
  opts: {
    res?: number;
    labels?: Record<string, string>;
    sources?: string[];
    noCompact?: boolean;
    ulid?: string;
  } = {},
): CatalogBlock {
  const ulid = opts.ulid ?? `01H${String(seq++).padStart(23, '0')}`;
  const meta: BlockMeta = {
    ulid,
    minTime: minH * H,
    maxTime: maxH * H,
    stats: { numSamples: 1, numSeries: 1, numChunks: 1 },
    compaction: { level: 1, sources: opts.sources ?? [ulid] },
    version: 1,
    thanos: { labels: opts.labels ?? {}, downsample: { resolution: opts.res ?? 0 }, source: 'test' },
  };
  return {
    meta,
    resolution: opts.res ?? 0,
    ...(opts.noCompact === true
      ? { noCompactMark: { id: ulid, version: 1, details: '', no_compact_time: 0, reason: 'manual' } }
      : {}),
  };
}

function twoHour(from: number, n: number, opts = {}): CatalogBlock[] {
  return Array.from({ length: n }, (_, i) => block(from + 2 * i, from + 2 * i + 2, opts));
}

const ids = (ms: BlockMeta[]): string[] => ms.map((m) => m.ulid);

describe('planCompaction', () => {
  it('compacts four 2h blocks into 8h once a newer block exists, never the newest', () => {
    const g = twoHour(0, 5);
    expect(ids(planCompaction(g, DEFAULT_LEVELS))).toEqual(ids(g.slice(0, 4).map((b) => b.meta)));
    // Without a fifth block the fourth is the newest, and three blocks do not fill the range yet.
    expect(planCompaction(g.slice(0, 4), DEFAULT_LEVELS)).toEqual([]);
  });

  it('compacts a range that ends before the newest block even when it has gaps', () => {
    const g = [block(0, 2), block(4, 6), block(8, 10), block(10, 12)];
    expect(ids(planCompaction(g, DEFAULT_LEVELS))).toEqual([g[0]!.meta.ulid, g[1]!.meta.ulid]);
  });

  it('takes overlapping blocks first (vertical compaction)', () => {
    const g = [...twoHour(0, 5), block(3, 5)].sort((a, b) => a.meta.minTime - b.meta.minTime);
    const plan = planCompaction(g, DEFAULT_LEVELS);
    expect(plan.map((m) => [m.minTime / H, m.maxTime / H])).toEqual([
      [2, 4],
      [3, 5],
      [4, 6],
    ]);
  });

  it('never plans a no-compact block and splits runs around it', () => {
    const g = twoHour(0, 5);
    g[1] = block(2, 4, { noCompact: true });
    // 0-2 alone before the marked block, 4-6 and 6-8 after it.
    expect(planCompaction(g, DEFAULT_LEVELS).map((m) => m.minTime / H)).toEqual([4, 6]);
    const marked = twoHour(0, 5).map((b, i) =>
      i % 2 === 1 ? block(b.meta.minTime / H, b.meta.maxTime / H, { noCompact: true }) : b,
    );
    expect(planCompaction(marked, DEFAULT_LEVELS)).toEqual([]);
  });

  it('goes up the levels: six 8h blocks make a 2d block', () => {
    const g = [...Array.from({ length: 6 }, (_, i) => block(8 * i, 8 * i + 8)), block(48, 50)];
    expect(planCompaction(g, DEFAULT_LEVELS).length).toBe(6);
  });

  it('groups by resolution and external labels', () => {
    const a = block(0, 2, { labels: { cluster: 'a' } });
    const b = block(0, 2, { labels: { cluster: 'b' } });
    const c = block(0, 2, { labels: { cluster: 'a' }, res: RES_5M });
    expect(new Set([groupKey(a.meta), groupKey(b.meta), groupKey(c.meta)]).size).toBe(3);
    expect(compactionGroups([a, b, c]).size).toBe(3);
  });
});

describe('planDownsampling', () => {
  it('downsamples raw blocks of 40h or more once, and 5m blocks of 10d or more', () => {
    const small = block(0, 8);
    const big = block(0, 48);
    expect(planDownsampling([small, big]).map((p) => [p.meta.ulid, p.resolution])).toEqual([
      [big.meta.ulid, RES_5M],
    ]);
    const done = block(0, 48, { res: RES_5M, sources: [big.meta.ulid] });
    expect(planDownsampling([small, big, done])).toEqual([]);
    const long5m = block(0, 240, { res: RES_5M });
    expect(planDownsampling([long5m]).map((p) => p.resolution)).toEqual([RES_1H]);
    expect(planDownsampling([big], { to5m: H, to1h: H }).length).toBe(1);
  });
});

describe('planRetention', () => {
  it('marks blocks past the retention of their resolution; 0 keeps forever', () => {
    const raw = block(0, 2);
    const m5 = block(0, 48, { res: RES_5M });
    const h1 = block(0, 240, { res: RES_1H });
    const ret = { raw: 24 * H, '5m': 0, '1h': 24 * H };
    expect(ids(planRetention([raw, m5, h1], ret, 26 * H + 1))).toEqual([raw.meta.ulid]);
    expect(ids(planRetention([raw, m5, h1], ret, 300 * H))).toEqual([raw.meta.ulid, h1.meta.ulid]);
  });
});

describe('supersededBlocks', () => {
  it('finds blocks whose sources a compacted block holds, per resolution', () => {
    const a = block(0, 2);
    const b = block(2, 4);
    const c = block(0, 4, { sources: [a.meta.ulid, b.meta.ulid] });
    const d = block(0, 4, { res: RES_5M, sources: [a.meta.ulid, b.meta.ulid] });
    expect(ids(supersededBlocks([a, b, c, d]))).toEqual([a.meta.ulid, b.meta.ulid]);
    expect(supersededBlocks([a, b])).toEqual([]);
  });
});
