import { newMatcher, ValueType } from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import { MemoryQuerier } from './memory-querier.js';

describe('MemoryQuerier', () => {
  const q = new MemoryQuerier();
  const a = [
    { name: '__name__', value: 'm' },
    { name: 'job', value: 'a' },
  ];
  const b = [
    { name: 'job', value: 'b' },
    { name: '__name__', value: 'm' },
  ];
  for (let i = 0; i < 10; i++) q.appendFloat(a, i * 1000, i);
  q.appendFloat(b, 5000, 50);
  q.appendFloat(b, 1000, 10);

  it('selects by matchers and time, sorted by labels, with samples in time order', async () => {
    const all = await q.select({ mint: 0, maxt: 9000 }, [newMatcher('=', '__name__', 'm')]);
    expect(all.map((s) => s.labels.find((l) => l.name === 'job')?.value)).toEqual(['a', 'b']);
    const it = all[1]?.iterator();
    const seen: number[] = [];
    while (it && it.next() === ValueType.Float) seen.push(it.atT());
    expect(seen).toEqual([1000, 5000]);
    expect(await q.select({ mint: 6000, maxt: 9000 }, [newMatcher('=', 'job', 'b')])).toEqual([]);
  });

  it('seeks forward only, to the first sample at or after the time', async () => {
    const [s] = await q.select({ mint: 0, maxt: 9000 }, [newMatcher('=', 'job', 'a')]);
    const it = s?.iterator();
    expect(it?.seek(3500)).toBe(ValueType.Float);
    expect(it?.atT()).toBe(4000);
    expect(it?.seek(1000)).toBe(ValueType.Float);
    expect(it?.atT()).toBe(4000);
    expect(it?.seek(20_000)).toBe(ValueType.None);
  });

  it('lists label names and values', async () => {
    expect(await q.labelNames({ mint: 0, maxt: 9000 }, [])).toEqual(['__name__', 'job']);
    expect(await q.labelValues({ mint: 0, maxt: 9000 }, 'job', [])).toEqual(['a', 'b']);
  });
});
