import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsObjectStore, MemoryObjectStore, type ObjectStore } from '@promstream/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { CompactorLease, LEASE_PREFIX } from './lease.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const stores: [string, () => Promise<ObjectStore>][] = [
  ['memory', async () => new MemoryObjectStore()],
  [
    'filesystem',
    async () => {
      const d = await mkdtemp(join(tmpdir(), 'lease-'));
      dirs.push(d);
      return new FsObjectStore(d);
    },
  ],
];

for (const [name, make] of stores) {
  describe(`compactor lease (${name})`, () => {
    it('has one holder; the other takes over only after expiry, and the first then knows it lost', async () => {
      const store = await make();
      let now = 1_000_000;
      const a = new CompactorLease(store, { holder: 'a', ttlMs: 10_000, now: () => now });
      const b = new CompactorLease(store, { holder: 'b', ttlMs: 10_000, now: () => now });
      expect(await a.acquire()).toBe(true);
      expect(await b.acquire()).toBe(false);
      now += 6_000;
      // Past half its time, keep renews.
      expect(await a.keep()).toBe(true);
      now += 6_000;
      expect(await b.acquire()).toBe(false);
      now += 11_000;
      expect(await b.acquire()).toBe(true);
      expect(await a.keep()).toBe(false);
      expect(a.valid).toBe(false);
      expect(await a.acquire()).toBe(false);
      // Released, it is free at once.
      await b.release();
      expect(await a.acquire()).toBe(true);
      // Old entries are cleaned up as it goes.
      const keys = [];
      for await (const o of store.list(LEASE_PREFIX)) keys.push(o.key);
      expect(keys.length).toBeLessThanOrEqual(3);
    });

    it('lets one of many racing contenders win', async () => {
      const store = await make();
      const leases = [0, 1, 2, 3, 4].map(
        (i) => new CompactorLease(store, { holder: `h${i}`, ttlMs: 10_000 }),
      );
      const won = await Promise.all(leases.map((l) => l.acquire()));
      expect(won.filter(Boolean).length).toBe(1);
    });
  });
}
