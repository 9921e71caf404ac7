import { EVENTS_PREFIX, type ObjectStore } from '@promstream/storage';

const HOUR = 3_600_000;

/**
 * Deletes the segments of every hour that ended more than `retentionMs`
 * before `now`, for every tenant; returns how many were deleted. Whole hours
 * go at once, so a reader never sees part of an hour gone.
 */
export async function applyEventRetention(
  store: Pick<ObjectStore, 'list' | 'delete'>,
  now: number,
  retentionMs: number,
): Promise<number> {
  if (retentionMs <= 0) return 0;
  const cutoff = now - retentionMs;
  let deleted = 0;
  for await (const tenant of store.list(`${EVENTS_PREFIX}/`)) {
    if (!tenant.isPrefix) continue;
    for await (const day of store.list(tenant.key)) {
      const date = /date=(\d{4}-\d{2}-\d{2})\/$/.exec(day.key)?.[1];
      if (date === undefined) continue;
      const dayStart = Date.parse(`${date}T00:00:00Z`);
      if (dayStart >= cutoff) continue;
      for await (const hour of store.list(day.key)) {
        const h = /hour=(\d{2})\/$/.exec(hour.key)?.[1];
        if (h === undefined || dayStart + (Number(h) + 1) * HOUR > cutoff) continue;
        for await (const o of store.list(hour.key, { recursive: true })) {
          await store.delete(o.key);
          deleted++;
        }
      }
    }
  }
  return deleted;
}
