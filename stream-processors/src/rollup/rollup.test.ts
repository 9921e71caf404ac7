import { seededRandom } from '@promstream/testkit';
import { describe, expect, test } from 'vitest';
import type { DecodedBatch } from '../block-builder/seams.js';
import { type AggregatorSnapshot, PartitionAggregator } from './aggregator.js';
import { Combiner, type CombinerSnapshot, type OutputBatch } from './combiner.js';
import { parseRollupConfig, type RollupRule } from './config.js';
import { quantile, vmBucket, vmRange } from './group-state.js';

const ALL = `
- match: 'req'
  interval: 10s
  by: [job]
  outputs: [total, increase, sum_samples, count_samples, count_series, min, max, avg, last,
            'quantiles(0.5, 0.9)', histogram_bucket]
`;

function series(instance: string, t: number[], v: number[]) {
  return {
    labels: [
      { name: '__name__', value: 'req' },
      { name: 'instance', value: instance },
      { name: 'job', value: 'a' },
    ],
    t,
    v,
  };
}

function batch(...s: ReturnType<typeof series>[]): DecodedBatch {
  return { tenant: 't1', series: s, skippedHistograms: 0 };
}

/** Runs records of two source partitions through stage 1 and a one-partition stage 2. */
function run(rules: RollupRule[], records: [number, DecodedBatch][], lateMs = 0) {
  const aggs = [0, 1].map(
    (source) => new PartitionAggregator({ rules, source, lateMs, partialsPartitions: 1 }),
  );
  const combiner = new Combiner(rules, 2);
  const out: OutputBatch[] = [];
  for (const [p, b] of records) for (const r of aggs[p]!.add(b)) out.push(...combiner.add(r.value));
  return { out, aggs };
}

function byName(out: OutputBatch[], t: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const b of out)
    if (b.t === t)
      for (const s of b.samples) {
        const extra = s.labels.filter((l) => l.name === 'quantile' || l.name === 'vmrange');
        const name = s.labels.find((l) => l.name === '__name__')!.value;
        m.set(extra.length === 0 ? name : `${name}{${extra[0]!.value}}`, s.value);
      }
  return m;
}

describe('rollup outputs against hand-computed values', () => {
  const rules = parseRollupConfig(ALL);
  const records: [number, DecodedBatch][] = [
    [0, batch(series('1', [1000, 5000, 9000], [10, 15, 3]))],
    [1, batch(series('2', [2000, 8000], [100, 110]))],
    [0, batch(series('1', [11000], [5]))],
    [1, batch(series('2', [12000], [120]))],
    [0, batch(series('1', [20000], [6]))],
    [1, batch(series('2', [20000], [121]))],
  ];

  test('every output of the first window, combined over two partitions', () => {
    const { out } = run(rules, records);
    const w = byName(out, 10_000);
    const p = 'req:10s_by_job_';
    // Partition 0: 10, 15, 3 (a reset: +5, +3); partition 1: 100, 110 (+10). First samples are baselines.
    expect(w.get(`${p}sum_samples`)).toBe(238);
    expect(w.get(`${p}count_samples`)).toBe(5);
    expect(w.get(`${p}count_series`)).toBe(2);
    expect(w.get(`${p}min`)).toBe(3);
    expect(w.get(`${p}max`)).toBe(110);
    expect(w.get(`${p}avg`)).toBeCloseTo(47.6, 12);
    expect(w.get(`${p}last`)).toBe(3);
    expect(w.get(`${p}increase`)).toBe(18);
    expect(w.get(`${p}total`)).toBe(18);
    // Sorted 3, 10, 15, 100, 110: rank 2 → 15; rank 3.6 → 100·0.4 + 110·0.6.
    expect(w.get(`${p}quantiles{0.5}`)).toBe(15);
    expect(w.get(`${p}quantiles{0.9}`)).toBeCloseTo(106, 10);
    expect(w.get(`${p}histogram_bucket{2.783e+00...3.162e+00}`)).toBe(1);
    expect(w.get(`${p}histogram_bucket{8.799e+00...1.000e+01}`)).toBe(1);
    expect(w.get(`${p}histogram_bucket{1.468e+01...1.668e+01}`)).toBe(1);
    expect(w.get(`${p}histogram_bucket{8.799e+01...1.000e+02}`)).toBe(1);
    expect(w.get(`${p}histogram_bucket{1.000e+02...1.136e+02}`)).toBe(1);
    expect(out.find((b) => b.t === 10_000)!.samples[0]!.labels).toEqual([
      { name: '__name__', value: `${p}total` },
      { name: 'job', value: 'a' },
    ]);
  });

  test('total keeps counting across windows; increase is per window', () => {
    const { out } = run(rules, records);
    const w = byName(out, 20_000);
    // 3 → 5 (+2) on partition 0, 110 → 120 (+10) on partition 1.
    expect(w.get('req:10s_by_job_increase')).toBe(12);
    expect(w.get('req:10s_by_job_total')).toBe(30);
    expect(w.get('req:10s_by_job_count_series')).toBe(2);
  });

  test('a window waits for every source partition', () => {
    const { out } = run(rules, records.slice(0, 3));
    expect(out).toEqual([]);
  });

  test('a sample for a closed window is late: counted, not aggregated', () => {
    const late: [number, DecodedBatch][] = [...records.slice(0, 3), [0, batch(series('1', [4000], [1000]))]];
    const { out, aggs } = run(rules, [...late, ...records.slice(3)]);
    expect(aggs[0]!.counts.late).toBe(1);
    expect(byName(out, 10_000).get('req:10s_by_job_max')).toBe(110);
  });

  test('lateness keeps a window open for samples that come after its end', () => {
    const late: [number, DecodedBatch][] = [...records.slice(0, 3), [0, batch(series('1', [4000], [1000]))]];
    const { out, aggs } = run(rules, [...late, ...records.slice(3)], 5000);
    expect(aggs[0]!.counts.late).toBe(0);
    expect(byName(out, 10_000).get('req:10s_by_job_max')).toBe(1000);
    // The window closes only once the watermark is 5 s past its end (the samples at 20 s).
    expect(run(rules, [...late, ...records.slice(3, 4)], 5000).out).toEqual([]);
  });

  test('without drops the listed labels; no grouping keeps every label', () => {
    const rs = parseRollupConfig(`
- match: ['req', '{__name__="other"}']
  interval: 10s
  without: [instance]
  outputs: [count_samples]
- match: 'req{instance="1"}'
  interval: 10s
  outputs: [last]
`);
    const { out } = run(rs, records);
    const names = out.filter((b) => b.t === 10_000).flatMap((b) => b.samples.map((s) => s.labels));
    expect(names).toContainEqual([
      { name: '__name__', value: 'req:10s_without_instance_count_samples' },
      { name: 'job', value: 'a' },
    ]);
    expect(names).toContainEqual([
      { name: '__name__', value: 'req:10s_last' },
      { name: 'instance', value: '1' },
      { name: 'job', value: 'a' },
    ]);
    expect(names).toHaveLength(2);
  });
});

describe('quantile and VictoriaMetrics buckets', () => {
  test('quantile interpolates between ranks', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0)).toBe(1);
    expect(quantile([1, 2, 3, 4], 1)).toBe(4);
    expect(quantile([], 0.5)).toBeNaN();
  });
  test('bucket edges: a lower bound belongs to the bucket below; out of range goes to the ends', () => {
    expect(vmRange(vmBucket(1))).toBe('8.799e-01...1.000e+00');
    expect(vmRange(vmBucket(0))).toBe('0...1.000e-09');
    expect(vmRange(vmBucket(1e20))).toBe('1.000e+18...+Inf');
    expect(vmBucket(-1)).toBe(-2);
  });
});

describe('restart from a snapshot', () => {
  test('gives the same outputs as an uninterrupted run, at any record', () => {
    const rules = parseRollupConfig(ALL.replace('by: [job]', 'without: [instance]'));
    const rand = seededRandom(7);
    const records: [number, DecodedBatch][] = [];
    const counters = new Map<string, number>();
    for (let t = 0; t < 120_000; t += 500) {
      const p = Math.floor(rand() * 2);
      const inst = `${p}-${Math.floor(rand() * 3)}`;
      const prev = counters.get(inst) ?? 0;
      const v = rand() < 0.05 ? 1 : prev + Math.floor(rand() * 10);
      counters.set(inst, v);
      // Some samples arrive up to 3 s late.
      records.push([p, batch(series(inst, [t - Math.floor(rand() * 3000)], [v]))]);
    }
    const straight = run(rules, records, 2000).out;
    expect(straight.length).toBeGreaterThan(10);
    for (const cut of [5, 60, 111, 200]) {
      const aggs = [0, 1].map(
        (source) => new PartitionAggregator({ rules, source, lateMs: 2000, partialsPartitions: 1 }),
      );
      let combiner = new Combiner(rules, 2);
      const out: OutputBatch[] = [];
      records.forEach(([p, b], i) => {
        if (i === cut) {
          // Both stages restart from JSON snapshots, as after a kill.
          for (let s = 0; s < 2; s++) {
            const snap = JSON.parse(JSON.stringify(aggs[s]!.snapshot())) as AggregatorSnapshot;
            aggs[s] = new PartitionAggregator({ rules, source: s, lateMs: 2000, partialsPartitions: 1 });
            aggs[s]!.restore(snap);
          }
          const snap = JSON.parse(JSON.stringify(combiner.snapshot())) as CombinerSnapshot;
          combiner = new Combiner(rules, 2);
          combiner.restore(snap);
        }
        for (const r of aggs[p]!.add(b)) out.push(...combiner.add(r.value));
      });
      expect(out).toEqual(straight);
    }
  });
});
