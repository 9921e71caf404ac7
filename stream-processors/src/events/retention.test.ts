import { MemoryObjectStore } from '@promstream/storage';
import { describe, expect, test } from 'vitest';
import { applyEventRetention } from './retention.js';

describe('event retention', () => {
  test('deletes whole hours that ended before the cutoff, for every tenant, and nothing else', async () => {
    const store = new MemoryObjectStore();
    const keys = [
      'events/a/date=2026-12-01/hour=22/p00000-1-2.parquet',
      'events/a/date=2026-12-01/hour=23/p00000-3-4.parquet',
      'events/b/date=2026-12-01/hour=23/p00001-3-4.parquet',
      'events/b/date=2026-12-02/hour=00/p00001-5-6.parquet',
      '_promstream/event-store/t/0.json',
    ];
    for (const k of keys) await store.put(k, new Uint8Array([1]));
    // Retention of a day at 2026-12-02T23:30: hours ending at or before 2026-12-01T23:30 go.
    const deleted = await applyEventRetention(store, Date.UTC(2026, 11, 2, 23, 30), 86_400_000);
    expect(deleted).toBe(1);
    const left = [];
    for await (const o of store.list('', { recursive: true })) left.push(o.key);
    expect(left.sort()).toEqual(keys.filter((k) => !k.includes('hour=22')).sort());
    expect(await applyEventRetention(store, Date.UTC(2026, 11, 3, 0, 59), 86_400_000)).toBe(2);
    expect(await applyEventRetention(store, Date.UTC(2030, 0, 1), 0)).toBe(0);
  });
});
