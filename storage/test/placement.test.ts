import { describe, expect, it } from 'vitest';
import {
  alignedStart,
  checkPlacementRules,
  defaultBackfillIdle,
  PartitionClock,
  Placement,
  type PlacementRules,
} from '../src/block/placement.js';

const rules: PlacementRules = {
  blockDuration: 1000,
  outOfOrderWindow: 200,
  futureGrace: 5000,
  backfillIdle: 3000,
};

describe('placement of a partition’s samples', () => {
  it('drives the clock by record timestamps only: a far-future sample moves nothing', () => {
    const c = new PartitionClock(rules);
    c.advance(10_000, false);
    expect(c.place(10_100)).toBe(Placement.Live);
    // The attacker's record: now, with a sample in the year 3000.
    c.advance(10_050, false);
    expect(c.place(32_503_680_000_000)).toBe(Placement.TooFarFuture);
    expect(c.clock).toBe(10_050);
    // The victim's next sample is placed as before.
    c.advance(10_060, false);
    expect(c.place(10_060)).toBe(Placement.Live);
    expect(c.cutPoint()).toBe(9000);
  });

  it('closes a live range once the clock passes its end by the window, and refuses its late samples', () => {
    const c = new PartitionClock(rules);
    c.advance(1100, false);
    expect(c.place(900)).toBe(Placement.Live);
    expect(c.cutPoint()).toBe(0);
    c.advance(1199, false);
    expect(c.place(999)).toBe(Placement.Live);
    c.advance(1200, false);
    // [0, 1000) closed at 1000 + 200.
    expect(c.cutPoint()).toBe(1000);
    expect(c.place(999)).toBe(Placement.TooOld);
    expect(c.place(1000)).toBe(Placement.Live);
    // A record with an older timestamp does not move the clock back.
    expect(c.advance(500, false)).toBe(1200);
    expect(c.place(999)).toBe(Placement.TooOld);
  });

  it('allows samples up to the grace period past their own record, not past the clock', () => {
    const c = new PartitionClock(rules);
    c.advance(50_000, false);
    c.advance(48_000, false);
    expect(c.place(53_000)).toBe(Placement.Live);
    expect(c.place(53_001)).toBe(Placement.TooFarFuture);
  });

  it('places backfill records whatever their age, and closes a backfill range after its idle time', () => {
    const c = new PartitionClock(rules);
    c.advance(100_000, false);
    c.advance(100_001, true);
    expect(c.place(5)).toBe(Placement.Backfill);
    expect(c.place(100_001 + 5001)).toBe(Placement.TooFarFuture);
    expect(c.backfillClosed(100_001)).toBe(false);
    c.advance(103_000, false);
    expect(c.backfillClosed(100_001)).toBe(false);
    c.advance(103_001, false);
    expect(c.backfillClosed(100_001)).toBe(true);
  });

  it('restored from a state, refuses what was cut and continues with the clock it was given', () => {
    const c = new PartitionClock(rules, { clock: 5000, boundary: 6000 });
    expect(c.floor()).toBe(6000);
    c.advance(5100, false);
    expect(c.place(5500)).toBe(Placement.TooOld);
    expect(c.place(6000)).toBe(Placement.Live);
    expect(c.cutPoint()).toBe(4000);
  });

  it('takes a record without a timestamp to be at the clock', () => {
    const c = new PartitionClock(rules);
    c.advance(-1, false);
    expect(c.clock).toBe(Number.NEGATIVE_INFINITY);
    expect(c.place(1e15)).toBe(Placement.Live);
    c.advance(10_000, false);
    c.advance(-1, false);
    expect(c.place(16_000)).toBe(Placement.TooFarFuture);
  });

  it('aligns ranges, defaults the backfill idle time, and refuses bad rules', () => {
    expect(alignedStart(7_199_999, 7_200_000)).toBe(0);
    expect(alignedStart(-1, 1000)).toBe(-1000);
    expect(defaultBackfillIdle(600_000)).toBe(600_000);
    expect(defaultBackfillIdle(1000)).toBe(60_000);
    expect(() => checkPlacementRules({ ...rules, blockDuration: 10 })).toThrow(/block duration/);
    expect(() => checkPlacementRules({ ...rules, futureGrace: -1 })).toThrow(/future grace/);
    expect(checkPlacementRules(rules)).toBe(rules);
  });
});
