import type { Labels } from '@promstream/storage';
import { seededRandom } from '@promstream/testkit';
import { describe, expect, it } from 'vitest';
import { floatPoints } from '../engine-types.js';
import { MemoryQuerier } from '../memory-querier.js';
import { Engine } from './engine.js';

// topk/bottomk keep per-group rankings in typed arrays for small k. The
// answer must be what a stable sort of each group's samples (largest first
// for topk, smallest for bottomk, NaN last) cut to k gives, in that order,
// with ties, NaN and infinities among the values.

const VALUES = [0, 1, 1, 2, 3, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2.5];

interface Row {
  labels: Labels;
  g: string;
  values: number[];
}

function dataset(): { q: MemoryQuerier; rows: Row[]; ks: number[] } {
  const r = seededRandom(11);
  const q = new MemoryQuerier();
  const rows: Row[] = [];
  for (let k = 0; k < 40; k++) {
    const g = `g${k % 3}`;
    const labels: Labels = [
      { name: '__name__', value: 'm' },
      { name: 'g', value: g },
      { name: 'i', value: String(k).padStart(2, '0') },
    ];
    const values: number[] = [];
    for (let step = 0; step < 10; step++) {
      const v = VALUES[Math.floor(r() * VALUES.length)]!;
      values.push(v);
      q.appendFloat(labels, step * 60_000, v);
    }
    rows.push({ labels, g, values });
  }
  // A k per step for topk(scalar(kp), ...): small at some steps, beyond the typed-array ranking at others.
  const ks = [1, 3, 100, 2, 70, 5, 1, 64, 0, 4];
  for (let step = 0; step < ks.length; step++)
    q.appendFloat([{ name: '__name__', value: 'kp' }], step * 60_000, ks[step]!);
  // The querier hands series over in label order.
  rows.sort((a, b) => (a.g + a.labels[2]!.value < b.g + b.labels[2]!.value ? -1 : 1));
  return { q, rows, ks };
}

/** The reference: per group (in order of first appearance), a stable sort cut to k. */
function expected(rows: Row[], step: number, k: number, top: boolean, byGroup: boolean): Labels[] {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = byGroup ? row.g : '';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(row);
  }
  const out: Labels[] = [];
  for (const members of groups.values()) {
    const sorted = [...members].sort((a, b) => {
      const x = a.values[step]!;
      const y = b.values[step]!;
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
      if (Number.isNaN(y)) return -1;
      if (x === y) return 0;
      return top ? (x > y ? -1 : 1) : x < y ? -1 : 1;
    });
    for (const row of sorted.slice(0, k)) out.push(row.labels);
  }
  return out;
}

/** A range query's members over the ten steps, each as `series@step=value`. */
async function rangeMembers(engine: Engine, q: MemoryQuerier, expr: string): Promise<Set<string>> {
  const range = await engine.rangeQuery(q, expr, 0, 9 * 60_000, 60_000);
  if (range.value.resultType !== 'matrix') throw new Error('not a matrix');
  const got = new Set<string>();
  for (const s of range.value.result)
    for (const p of floatPoints(s)) got.add(`${s.metric[2]!.value}@${p.t / 60_000}=${p.f}`);
  return got;
}

/** The members `expected` gives over the ten steps, in the form of `rangeMembers`. */
function expectedMembers(
  rows: Row[],
  kAt: (step: number) => number,
  top: boolean,
  byGroup: boolean,
): Set<string> {
  const want = new Set<string>();
  for (let step = 0; step < 10; step++)
    for (const labels of expected(rows, step, kAt(step), top, byGroup)) {
      const row = rows.find((x) => x.labels === labels)!;
      want.add(`${labels[2]!.value}@${step}=${row.values[step]}`);
    }
  return want;
}

describe('topk and bottomk', () => {
  it('rank with a k that changes from step to step', async () => {
    const { q, rows, ks } = dataset();
    const engine = new Engine();
    for (const top of [true, false]) {
      const expr = `${top ? 'topk' : 'bottomk'} by (g) (scalar(kp), m)`;
      expect(await rangeMembers(engine, q, expr), expr).toEqual(
        expectedMembers(rows, (step) => ks[step]!, top, true),
      );
      for (let step = 0; step < 10; step++) {
        const r = await engine.instantQuery(q, expr, step * 60_000);
        if (r.value.resultType !== 'vector') throw new Error('not a vector');
        expect(
          r.value.result.map((s) => s.metric),
          `${expr} at step ${step}`,
        ).toEqual(expected(rows, step, ks[step]!, top, true));
      }
    }
  });

  it('rank like a stable sort cut to k, at every step and per group', async () => {
    const { q, rows } = dataset();
    const engine = new Engine();
    for (const top of [true, false]) {
      for (const byGroup of [false, true]) {
        for (const k of [1, 2, 5, 14]) {
          const expr = `${top ? 'topk' : 'bottomk'}${byGroup ? ' by (g)' : ''}(${k}, m)`;
          for (let step = 0; step < 10; step++) {
            const r = await engine.instantQuery(q, expr, step * 60_000);
            expect(r.value.resultType).toBe('vector');
            if (r.value.resultType !== 'vector') continue;
            expect(
              r.value.result.map((s) => s.metric),
              `${expr} at step ${step}`,
            ).toEqual(expected(rows, step, k, top, byGroup));
          }
          // As a range query: every step's members, each with its own value.
          expect(await rangeMembers(engine, q, expr), expr).toEqual(
            expectedMembers(rows, () => k, top, byGroup),
          );
        }
      }
    }
  });
});
