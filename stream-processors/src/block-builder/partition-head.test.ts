import type { PlacementRules } from '@promstream/storage';
import { seededRandom } from '@promstream/testkit';
import { describe, expect, test } from 'vitest';
import { blockUlid } from './block-id.js';
import { type CutBlock, PartitionHead, type RestoredHead } from './partition-head.js';
import { rangeStart } from './ranges.js';

const up = [
  { name: '__name__', value: 'up' },
  { name: 'job', value: 'a' },
];
const down = [
  { name: '__name__', value: 'down' },
  { name: 'job', value: 'a' },
];
const rules: PlacementRules = {
  blockDuration: 1000,
  outOfOrderWindow: 100,
  futureGrace: 5000,
  backfillIdle: 2000,
};

/** Feeds one record of one series. */
function feed(
  head: PartitionHead,
  offset: number,
  recordTime: number,
  tenant: string,
  labels: typeof up,
  t: number[],
  backfill = false,
) {
  head.beginRecord(offset, recordTime, backfill);
  const r = {
    ...head.append(
      tenant,
      labels,
      t,
      t.map((x) => x / 10),
    ),
  };
  head.endRecord(offset);
  return r;
}

describe('PartitionHead', () => {
  test('cuts a live range once the partition clock passes its end by the window', () => {
    const head = new PartitionHead({ rules });
    feed(head, 0, 1000, 't', up, [10, 500, 999]);
    feed(head, 1, 1050, 't', up, [1050]);
    expect(head.cut()).toEqual([]);
    feed(head, 2, 1100, 't', down, [1100]);
    expect(head.commitOffset()).toBe(0);
    const [block, more] = head.cut();
    expect(more).toBeUndefined();
    expect(block).toMatchObject({
      tenant: 't',
      rangeStart: 0,
      rangeEnd: 1000,
      firstOffset: 0,
      lastOffset: 0,
      backfill: false,
    });
    expect(Array.from(block!.series[0]!.t)).toEqual([10, 500, 999]);
    expect(head.commitOffset()).toBe(1);
    expect(head.boundary).toBe(1000);
  });

  test('one far-future sample moves no range: the victim’s later samples are all placed', () => {
    const head = new PartitionHead({ rules });
    feed(head, 0, 10_000, 'victim', up, [10_000]);
    const attack = feed(head, 1, 10_001, 'attacker', down, [32_503_680_000_000, 10_001]);
    expect(attack).toMatchObject({ placed: 1, tooFarFuture: 1 });
    expect(head.time).toBe(10_001);
    expect(feed(head, 2, 10_002, 'victim', up, [10_002])).toMatchObject({ placed: 1, tooOld: 0 });
    feed(head, 3, 11_100, 'victim', up, [11_100]);
    const blocks = head.cut();
    expect(blocks.map((b) => [b.tenant, b.rangeStart, b.samples])).toEqual([
      ['attacker', 10_000, 1],
      ['victim', 10_000, 2],
    ]);
    expect(head.commitOffset()).toBe(3);
    expect(head.dropped).toEqual({ too_old: 0, too_far_future: 1, covered: 0 });
  });

  test('keeps late samples inside the window, sorts them and keeps the first of duplicates', () => {
    const head = new PartitionHead({ rules });
    feed(head, 0, 400, 't', up, [100, 400]);
    head.beginRecord(1, 400, false);
    head.append('t', up, [200, 400], [3, 9]);
    head.endRecord(1);
    feed(head, 2, 1100, 't', down, [1100]);
    const [block] = head.cut();
    expect(Array.from(block!.series[0]!.t)).toEqual([100, 200, 400]);
    expect(Array.from(block!.series[0]!.v)).toEqual([10, 3, 40]);
  });

  test('refuses samples of cut ranges as too old, and counts re-reads after a restart as covered', () => {
    const head = new PartitionHead({ rules });
    feed(head, 0, 500, 't', up, [500]);
    feed(head, 1, 1200, 't', up, [1200]);
    head.cut();
    expect(feed(head, 2, 1200, 't', up, [999, 1300])).toMatchObject({ placed: 1, tooOld: 1 });
    const restored: RestoredHead = { clock: 1200, boundary: 1000, backfillCuts: [], handledThrough: 2 };
    const again = new PartitionHead({ rules, restored });
    expect(feed(again, 2, 1200, 't', up, [999, 1300])).toMatchObject({ placed: 1, tooOld: 0, covered: 1 });
    expect(feed(again, 3, 1200, 't', up, [998])).toMatchObject({ tooOld: 1, covered: 0 });
  });

  test('splits a record spanning two ranges and holds the commit, and its clock, at that record', () => {
    const head = new PartitionHead({ rules: { ...rules, outOfOrderWindow: 200 } });
    feed(head, 4, 800, 'u', down, [800]);
    feed(head, 5, 1100, 't', up, [900, 1100]);
    feed(head, 6, 2000, 'u', down, [2000]);
    // [0, 1000) is due at 1200; [1000, 2000) at 2200.
    expect(head.cut().map((b) => `${b.tenant}@${b.rangeStart}:${b.firstOffset}-${b.lastOffset}`)).toEqual([
      't@0:4-5',
      'u@0:4-5',
    ]);
    expect(head.commitOffset()).toBe(5);
    expect(head.restoreState().clock).toBe(800);
    feed(head, 7, 2200, 'u', down, [2100]);
    expect(head.cut().map((b) => `${b.tenant}@${b.rangeStart}:${b.firstOffset}-${b.lastOffset}`)).toEqual([
      't@1000:5-5',
    ]);
    expect(head.commitOffset()).toBe(6);
    expect(head.restoreState().clock).toBe(1100);
    // With no window, a record's own time closes the range its late sample would go to.
    const strict = new PartitionHead({ rules: { ...rules, outOfOrderWindow: 0 } });
    feed(strict, 0, 800, 'u', down, [800]);
    expect(feed(strict, 1, 1100, 't', up, [900, 1100])).toMatchObject({ placed: 1, tooOld: 1 });
  });

  test('places backfill records in ranges per tenant, whatever their age, and cuts them after the idle time', () => {
    const head = new PartitionHead({ rules });
    feed(head, 0, 100_000, 'live', up, [100_000]);
    expect(feed(head, 1, 100_010, 'old', up, [5, 7], true)).toMatchObject({ placed: 2 });
    expect(feed(head, 2, 100_020, 'old', down, [1500], true)).toMatchObject({ placed: 1 });
    expect(feed(head, 3, 100_030, 'old', up, [200_000], true)).toMatchObject({ tooFarFuture: 1 });
    expect(head.cut().map((b) => b.tenant)).toEqual([]);
    feed(head, 4, 102_020, 'live', up, [102_020]);
    // The live range [100000, 101000) is cut; the backfill ranges idle since 100020 too.
    const blocks = head.cut();
    expect(
      blocks.map((b) => `${b.backfill ? 'backfill' : 'live'} ${b.tenant}@${b.rangeStart}:${b.samples}`),
    ).toEqual(['live live@100000:1', 'backfill old@0:2', 'backfill old@1000:1']);
    // A later backfill sample of a cut range opens a new range: its block overlaps the first.
    feed(head, 5, 102_030, 'old', up, [6], true);
    feed(head, 6, 104_030, 'live', up, [104_030]);
    const second = head.cut().filter((b) => b.backfill);
    expect(second.map((b) => `${b.tenant}@${b.rangeStart}:${b.firstOffset}-${b.lastOffset}`)).toEqual([
      'old@0:5-5',
    ]);
    expect(head.restoreState().backfillCuts).toEqual([]);
  });

  test('after a restart, backfill samples of ranges cut through the re-read record are covered', () => {
    const restored: RestoredHead = {
      clock: 100_000,
      boundary: 99_000,
      backfillCuts: [{ tenant: 'old', start: 0, through: 7 }],
      handledThrough: 7,
    };
    const head = new PartitionHead({ rules, restored });
    expect(feed(head, 6, 100_010, 'old', up, [5, 1500], true)).toMatchObject({ placed: 1, covered: 1 });
    expect(feed(head, 8, 100_020, 'old', up, [9], true)).toMatchObject({ placed: 1, covered: 0 });
  });
});

/** One generated record: its timestamp, backfill flag, tenant, series and sample times. */
interface GenRecord {
  offset: number;
  time: number;
  backfill: boolean;
  tenant: string;
  series: number;
  t: number[];
}

function generate(seed: number, n: number): GenRecord[] {
  const rnd = seededRandom(seed);
  const out: GenRecord[] = [];
  let now = 50_000;
  for (let offset = 0; offset < n; offset++) {
    // Record times move on, with producers' clocks a little apart.
    now += Math.floor(rnd() * 120);
    const time = now - Math.floor(rnd() * 80);
    const backfill = rnd() < 0.15;
    const t: number[] = [];
    for (let i = 0; i < 1 + Math.floor(rnd() * 4); i++) {
      const r = rnd();
      if (backfill) t.push(Math.floor(rnd() * 40_000));
      else if (r < 0.03) t.push(32_503_680_000_000);
      else t.push(time - Math.floor(rnd() * 1500) + 200);
    }
    out.push({
      offset,
      time,
      backfill,
      tenant: `t${Math.floor(rnd() * 3)}`,
      series: Math.floor(rnd() * 4),
      t,
    });
  }
  return out;
}

/** Runs records through heads, cutting after every `every` records, restarting at `crashAt` from the saved state. */
function run(records: GenRecord[], every: number, crashAt?: number): Map<string, string> {
  const blocks = new Map<string, string>();
  const keep = (bs: CutBlock[]) => {
    for (const b of bs) {
      const id = blockUlid({
        topic: 's',
        partition: 0,
        tenant: b.tenant,
        firstOffset: b.firstOffset,
        lastOffset: b.lastOffset,
        minTime: b.rangeStart,
      });
      const body = JSON.stringify(b.series.map((s) => [s.labels, Array.from(s.t), Array.from(s.v)]));
      const before = blocks.get(id);
      // A block built again from the same offsets must have the same content.
      if (before !== undefined) expect(body).toBe(before);
      blocks.set(id, body);
    }
  };
  let head = new PartitionHead({ rules });
  // Offsets dead-lettered, in order, duplicates kept: a restart that wrote one again would show.
  const dead: number[] = [];
  let crashed = false;
  for (let i = 0; i < records.length; i++) {
    if (i === crashAt && !crashed) {
      crashed = true;
      // Save as the builder does after a cut, then start over from the commit offset.
      keep(head.cut());
      const next = head.commitOffset();
      const restored: RestoredHead = {
        ...head.restoreState(),
        boundary: head.boundary,
        handledThrough: head.lastRead(),
      };
      head = new PartitionHead({ rules, restored });
      // Dead letters written before the crash stay written; the restart must not need them again.
      i = next;
    }
    const r = records[i]!;
    head.beginRecord(r.offset, r.time, r.backfill);
    const labels = [
      { name: '__name__', value: 'm' },
      { name: 's', value: String(r.series) },
    ];
    const res = head.append(
      r.tenant,
      labels,
      r.t,
      r.t.map((x) => x % 97),
    );
    if (res.tooOld + res.tooFarFuture > 0) dead.push(r.offset);
    head.endRecord(r.offset);
    if ((i + 1) % every === 0) keep(head.cut());
  }
  keep(head.cut());
  blocks.set('dead letters', dead.join(','));
  return blocks;
}

describe('PartitionHead is deterministic', () => {
  test.each([1, 2, 3, 4, 5])(
    'seed %i: the same blocks however the log is cut into batches, and after a restart',
    (seed) => {
      const records = generate(seed, 600);
      const each = run(records, 1);
      expect(each.size).toBeGreaterThan(20);
      expect(run(records, 37)).toEqual(each);
      expect(run(records, 600)).toEqual(each);
      // Restarts from the saved state (crash after a cut) rebuild the same blocks and refuse the same records.
      for (const crashAt of [101, 333, 480]) expect(run(records, 13, crashAt)).toEqual(each);
    },
  );
});

describe('block ids and ranges', () => {
  test('the same origin gives the same ULID, another offset another one', () => {
    const origin = {
      topic: 's',
      partition: 1,
      tenant: 't',
      firstOffset: 3,
      lastOffset: 9,
      minTime: 7_200_000,
    };
    const id = blockUlid(origin);
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(blockUlid({ ...origin })).toBe(id);
    expect(blockUlid({ ...origin, lastOffset: 10 })).not.toBe(id);
    // The time part is the block's minimum time, as the ulid package encodes 7200000.
    expect(blockUlid({ ...origin, minTime: 14_400_000 }) > id).toBe(true);
    expect(id.slice(0, 10)).toBe('000006VQ80');
  });

  test('aligns ranges', () => {
    expect(rangeStart(7_199_999, 7_200_000)).toBe(0);
    expect(rangeStart(-1, 1000)).toBe(-1000);
  });
});
