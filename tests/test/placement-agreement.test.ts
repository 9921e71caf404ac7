import { HeadStore, PartitionTail } from '@promstream/query';
import { newMatcher, type PlacementRules, ValueType } from '@promstream/storage';
import { PartitionHead } from '@promstream/stream-processors';
import { seededRandom } from '@promstream/testkit';
import { describe, expect, test } from 'vitest';

// The block builder's head and the query head's tail read the same records
// and must agree on every sample: at every point, each sample the builder
// placed is in exactly one of its blocks or the query head, and the query
// head holds nothing the builder refused (too old, too far in the future).

const rules: PlacementRules = {
  blockDuration: 1000,
  outOfOrderWindow: 150,
  futureGrace: 3000,
  backfillIdle: 1500,
};

interface Rec {
  offset: number;
  time: number;
  backfill: boolean;
  tenant: string;
  series: { labels: { name: string; value: string }[]; t: number[]; v: number[] }[];
}

function generate(seed: number, n: number): Rec[] {
  const rnd = seededRandom(seed);
  let now = 100_000;
  const used = new Set<string>();
  const out: Rec[] = [];
  for (let offset = 0; offset < n; offset++) {
    now += Math.floor(rnd() * 60);
    const time = now - Math.floor(rnd() * 40);
    const backfill = rnd() < 0.1;
    const tenant = `t${Math.floor(rnd() * 3)}`;
    const series = [];
    for (let s = 0; s < 1 + Math.floor(rnd() * 3); s++) {
      const labels = [
        { name: '__name__', value: 'm' },
        { name: 's', value: String(Math.floor(rnd() * 5)) },
      ];
      const t: number[] = [];
      for (let i = 0; i < 1 + Math.floor(rnd() * 3); i++) {
        let x: number;
        if (backfill) x = Math.floor(rnd() * 50_000);
        else if (rnd() < 0.03) x = 32_503_680_000_000;
        else x = time - Math.floor(rnd() * 900) + 100;
        // One sample per series and time on the whole log, so sets compare.
        const id = `${tenant}|${labels[1]!.value}|${x}`;
        if (!used.has(id)) {
          used.add(id);
          t.push(x);
        }
      }
      series.push({ labels, t, v: t.map((x) => x % 101) });
    }
    out.push({ offset, time, backfill, tenant, series });
  }
  return out;
}

async function tailSamples(tails: PartitionTail[], store: HeadStore): Promise<Set<string>> {
  const out = new Set<string>();
  for (const tenant of ['t0', 't1', 't2']) {
    const qs = [store.querier(tenant), ...tails.flatMap((t) => t.backfillQueriers(tenant))];
    for (const q of qs) {
      for (const s of await q.select({ mint: -Infinity, maxt: Infinity }, [
        newMatcher('=~', '__name__', '.+'),
      ])) {
        const it = s.iterator();
        while (it.next() === ValueType.Float) {
          const id = `${tenant}|${s.labels[1]!.value}|${it.atT()}`;
          expect(out.has(id), `${id} held twice by the query head`).toBe(false);
          out.add(id);
        }
      }
    }
  }
  return out;
}

describe('block builder and query head place the same samples', () => {
  test.each([11, 12, 13, 14])('seed %i', async (seed) => {
    const records = generate(seed, 800);
    const head = new PartitionHead({ rules });
    const store = new HeadStore();
    const tail = new PartitionTail(0, store, rules, undefined);
    const placed = new Set<string>();
    const inBlocks = new Set<string>();
    let refused = 0;
    for (const r of records) {
      head.beginRecord(r.offset, r.time, r.backfill);
      for (const s of r.series) {
        const before = head.dropped.too_old + head.dropped.too_far_future;
        const res = head.append(r.tenant, s.labels, s.t, s.v);
        refused += head.dropped.too_old + head.dropped.too_far_future - before;
        // Which samples were placed: the builder says how many; its cut blocks show which.
        expect(res.placed + res.tooOld + res.tooFarFuture + res.covered).toBe(s.t.length);
      }
      head.endRecord(r.offset);
      tail.add(r.offset, r.time, r.backfill, { tenant: r.tenant, series: r.series });
      if (r.offset % 25 === 24) {
        for (const b of head.cut())
          for (const s of b.series)
            for (const t of s.t) {
              const id = `${b.tenant}|${s.labels[1]!.value}|${t}`;
              expect(inBlocks.has(id), `${id} in two blocks`).toBe(false);
              inBlocks.add(id);
            }
        tail.endBatch();
        const mark = {
          boundary: head.boundary,
          nextOffset: head.commitOffset(),
          ...head.restoreState(),
          rules,
        };
        tail.applyWatermark(mark);
        const held = await tailSamples([tail], store);
        for (const id of held)
          expect(inBlocks.has(id), `${id} both in a block and the query head`).toBe(false);
        // A query head started from this state holds the same samples once it read as far.
        if (r.offset === 399) {
          const fresh = new HeadStore();
          const restarted = new PartitionTail(0, fresh, rules, mark);
          for (const x of records.slice(mark.nextOffset, r.offset + 1))
            restarted.add(x.offset, x.time, x.backfill, { tenant: x.tenant, series: x.series });
          restarted.endBatch();
          restarted.applyWatermark(mark);
          expect(await tailSamples([restarted], fresh)).toEqual(held);
        }
        for (const id of held) placed.add(id);
        for (const id of inBlocks) placed.add(id);
      }
    }
    // Everything placed is in blocks or the head; nothing else is.
    const held = await tailSamples([tail], store);
    const union = new Set([...held, ...inBlocks]);
    expect(union).toEqual(placed);
    const total = records.reduce((n, r) => n + r.series.reduce((m, s) => m + s.t.length, 0), 0);
    expect(union.size + refused).toBe(total);
    expect(refused).toBeGreaterThan(0);
    expect(inBlocks.size).toBeGreaterThan(total / 2);
  });
});
