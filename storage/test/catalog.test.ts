/**
 * The block catalog, run against every ObjectStore implementation (memory,
 * filesystem, prefixed, and S3 when one is configured), as the object store
 * contract suite is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { announceSkip, type S3Backend, s3Backend } from '@promstream/testkit';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { BucketCatalog, listTenants, RESERVED_PREFIX } from '../src/block/bucket-catalog.js';
import { BlockCatalog, deleteBlock, liveBlocks, type SkippedBlock } from '../src/block/catalog.js';
import { NoCompactReason, noCompactMarkFormat } from '../src/block/marks.js';
import type { ThanosMeta } from '../src/block/meta.js';
import { Resolution } from '../src/block/resolution.js';
import { writeBlock } from '../src/block/writer.js';
import { isStorageError, StorageError, StorageErrorCode } from '../src/errors.js';
import { FsObjectStore } from '../src/objstore/fs.js';
import { MemoryObjectStore } from '../src/objstore/memory.js';
import { listAll, type ObjectStore } from '../src/objstore/object-store.js';
import { PrefixedObjectStore, tenantStore } from '../src/objstore/prefixed.js';
import { S3ObjectStore } from '../src/objstore/s3.js';
import { encodeXorChunk } from '../src/tsz/xor.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const NOW = 1_700_000_000_000;

function series(name: string, t0: number) {
  return [
    {
      labels: [{ name: '__name__', value: name }],
      chunks: [
        { minTime: t0, maxTime: t0 + 2000, bytes: encodeXorChunk([t0, t0 + 1000, t0 + 2000], [1, 2, 3]) },
      ],
    },
  ];
}

function thanos(resolution: number, labels: Record<string, string> = {}): ThanosMeta {
  return { labels, downsample: { resolution }, source: 'test' };
}

/** A store that counts gets per key and can be told to fail an operation. */
class Spy implements ObjectStore {
  readonly gets = new Map<string, number>();
  failGet: ((key: string) => boolean) | undefined;
  failDelete: ((key: string) => boolean) | undefined;

  constructor(private readonly inner: ObjectStore) {}

  get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    this.gets.set(key, (this.gets.get(key) ?? 0) + 1);
    if (this.failGet?.(key))
      return Promise.reject(new StorageError(StorageErrorCode.Io, 'get object: injected', { key }));
    return this.inner.get(key, range);
  }
  put(key: string, body: Uint8Array, options?: { ifNoneMatch?: boolean }): Promise<void> {
    return this.inner.put(key, body, options);
  }
  list(
    prefix: string,
    options?: { recursive?: boolean },
  ): AsyncIterable<{ key: string; size: number; isPrefix: boolean }> {
    return this.inner.list(prefix, options);
  }
  delete(key: string): Promise<void> {
    if (this.failDelete?.(key))
      return Promise.reject(new StorageError(StorageErrorCode.Io, 'delete object: injected', { key }));
    return this.inner.delete(key);
  }
  head(key: string) {
    return this.inner.head(key);
  }
}

/** The catalog's behaviour over one kind of store; `make` returns an empty store of that kind. */
function catalogSuite(name: string, make: () => Promise<ObjectStore>): void {
  describe(`block catalog over ${name}`, () => {
    let bucket: ObjectStore;
    beforeEach(async () => {
      bucket = await make();
    });

    it('lists tenants and each tenant’s blocks with their metas, in time order', async () => {
      const a = tenantStore(bucket, 'tenant-a');
      const m1 = await writeBlock(a, '', series('x', 1000), {
        thanos: thanos(0, { tenant: 'tenant-a' }),
        promstream: { partition: 2, minOffset: 10, maxOffset: 19 },
      });
      const m2 = await writeBlock(a, '', series('y', 500), { thanos: thanos(0) });
      const m3 = await writeBlock(tenantStore(bucket, 'tenant-b'), '', series('z', 1));
      // Neither a block at the root nor promstream's own state is a tenant.
      await writeBlock(bucket, '', series('root', 1));
      await bucket.put(`${RESERVED_PREFIX}/block-builder/t/0.json`, enc.encode('{}'));

      const catalog = new BucketCatalog(bucket);
      expect(await catalog.tenants()).toEqual(['tenant-a', 'tenant-b']);
      expect(await listTenants(bucket)).toEqual(['tenant-a', 'tenant-b']);
      const snap = await catalog.tenant('tenant-a').refresh();
      expect(snap.blocks.map((m) => m.ulid)).toEqual([m2.ulid, m1.ulid]);
      expect(snap.all.map((b) => [b.meta.ulid, b.resolution])).toEqual([
        [m2.ulid, 0],
        [m1.ulid, 0],
      ]);
      const b1 = snap.all[1]!.meta;
      expect(b1.thanos).toEqual(thanos(0, { tenant: 'tenant-a' }));
      expect(b1.promstream).toEqual({ partition: 2, minOffset: 10, maxOffset: 19 });
      expect(b1).toEqual(m1);
      expect(snap.skipped).toEqual([]);
      expect((await catalog.tenant('tenant-b').refresh()).blocks.map((m) => m.ulid)).toEqual([m3.ulid]);
      expect((await catalog.tenant('nobody').refresh()).all).toEqual([]);
      expect(() => catalog.tenant('a/b')).toThrowError(expect.objectContaining({ code: 'invalid_tenant' }));
    });

    it('tells partial blocks from corrupt and unsupported ones, and reports them', async () => {
      const good = await writeBlock(bucket, '', series('x', 1000));
      // Whole seconds on S3.
      const before = Math.floor(Date.now() / 1000) * 1000 - 1000;
      await bucket.put('01ARZ3NDEKTSV4RRFFQ69G5FAV/index', new Uint8Array(10));
      await bucket.put('01ARZ3NDEKTSV4RRFFQ69G5FAV/chunks/000001', new Uint8Array(10));
      const after = Date.now() + 1000;
      await bucket.put('01BX5ZZKBKACTAV9WEVGEMMVRZ/meta.json', enc.encode('{"ulid": 5'));
      // A meta.json that names another block, and one with a thanos section Thanos refuses.
      await bucket.put('01BX5ZZKBKACTAV9WEVGEMMVS0/meta.json', await bucket.get(`${good.ulid}/meta.json`));
      const v2 = JSON.parse(dec.decode(await bucket.get(`${good.ulid}/meta.json`)));
      v2.ulid = '01BX5ZZKBKACTAV9WEVGEMMVS1';
      v2.thanos = { version: 2, labels: {}, downsample: { resolution: 0 }, source: 'x' };
      await bucket.put('01BX5ZZKBKACTAV9WEVGEMMVS1/meta.json', enc.encode(JSON.stringify(v2)));
      await bucket.put('not-a-block/meta.json', new Uint8Array(1));

      const reported: SkippedBlock[] = [];
      const snap = await new BlockCatalog(bucket, { onSkip: (s) => reported.push(s) }).refresh();
      expect(snap.blocks.map((m) => m.ulid)).toEqual([good.ulid]);
      expect(snap.skipped.map((s) => [s.ulid, s.code])).toEqual([
        ['01ARZ3NDEKTSV4RRFFQ69G5FAV', 'partial'],
        ['01BX5ZZKBKACTAV9WEVGEMMVRZ', 'corrupt'],
        ['01BX5ZZKBKACTAV9WEVGEMMVS0', 'corrupt'],
        ['01BX5ZZKBKACTAV9WEVGEMMVS1', 'unsupported'],
      ]);
      expect(snap.skipped[0]!.deletionMark).toBeUndefined();
      // A partial block is dated by its objects' writes (its ULID's time says nothing of its age).
      expect(snap.skipped[0]!.lastModified).toBeGreaterThanOrEqual(before);
      expect(snap.skipped[0]!.lastModified).toBeLessThanOrEqual(after);
      expect(snap.skipped[1]!.reason).toContain('meta.json');
      expect(snap.skipped[2]!.reason).toContain(`names ${good.ulid}`);
      expect(reported).toEqual(snap.skipped);
    });

    it('writes marks of every kind in Thanos’ bytes, keeps the first, and lists blocks with them', async () => {
      let now = NOW;
      const catalog = new BlockCatalog(bucket, { now: () => now });
      const a = await writeBlock(bucket, '', series('a', 1000));
      const b = await writeBlock(bucket, '', series('b', 2000));
      expect(await catalog.markForDeletion(a.ulid, 'compacted')).toBe(true);
      now += 5000;
      expect(await catalog.markForDeletion(a.ulid, 'again')).toBe(false);
      expect(dec.decode(await bucket.get(`${a.ulid}/deletion-mark.json`))).toBe(
        `{"id":"${a.ulid}","version":1,"details":"compacted","deletion_time":1700000000}`,
      );
      expect(await catalog.markNoCompact(b.ulid, NoCompactReason.OutOfOrderChunks)).toBe(true);
      expect(await catalog.markNoDownsample(b.ulid, 'manual', 'keep raw')).toBe(true);
      expect(dec.decode(await bucket.get(`${b.ulid}/no-compact-mark.json`))).toBe(
        `{"id":"${b.ulid}","version":1,"no_compact_time":1700000005,"reason":"block-index-out-of-order-chunk"}`,
      );

      const snap = await catalog.refresh();
      expect(snap.blocks.map((m) => m.ulid)).toEqual([b.ulid]);
      expect(snap.marked).toEqual([
        { meta: a, mark: { id: a.ulid, version: 1, details: 'compacted', deletion_time: 1_700_000_000 } },
      ]);
      expect(snap.all.map((x) => x.meta.ulid)).toEqual([a.ulid, b.ulid]);
      expect(snap.all[0]!.deletionMark?.details).toBe('compacted');
      expect(snap.all[1]!.noCompactMark).toEqual({
        id: b.ulid,
        version: 1,
        no_compact_time: 1_700_000_005,
        reason: 'block-index-out-of-order-chunk',
      });
      expect(snap.all[1]!.noDownsampleMark?.details).toBe('keep raw');
      expect(liveBlocks(snap).map((x) => x.meta.ulid)).toEqual([b.ulid]);

      await catalog.removeMark(b.ulid, noCompactMarkFormat);
      await catalog.removeMark(b.ulid, noCompactMarkFormat);
      const after = await catalog.refresh();
      expect(after.all[1]!.noCompactMark).toBeUndefined();
      expect(after.all[1]!.noDownsampleMark).toBeDefined();
      await expect(catalog.markForDeletion('not-a-ulid')).rejects.toMatchObject({ code: 'invalid_argument' });
    });

    it('reports marks that do not read and takes their blocks as unmarked, as Thanos does', async () => {
      const a = await writeBlock(bucket, '', series('a', 1000));
      await bucket.put(`${a.ulid}/deletion-mark.json`, enc.encode('{"id":"'));
      await bucket.put(`${a.ulid}/no-compact-mark.json`, enc.encode(`{"id":"${a.ulid}","version":2}`));
      const bad: string[] = [];
      const snap = await new BlockCatalog(bucket, { onBadMark: (m) => bad.push(m.file) }).refresh();
      expect(snap.blocks.map((m) => m.ulid)).toEqual([a.ulid]);
      expect(snap.all[0]!.deletionMark).toBeUndefined();
      expect(snap.all[0]!.noCompactMark).toBeUndefined();
      expect(snap.badMarks.map((m) => [m.ulid, m.file, m.code])).toEqual([
        [a.ulid, 'deletion-mark.json', 'corrupt'],
        [a.ulid, 'no-compact-mark.json', 'unsupported'],
      ]);
      expect(bad).toEqual(['deletion-mark.json', 'no-compact-mark.json']);
    });

    it('lists blocks by resolution, leaving out those marked for deletion', async () => {
      const raw = await writeBlock(bucket, '', series('x', 1000), { thanos: thanos(Resolution.Raw) });
      const fiveMin = await writeBlock(bucket, '', series('x5m', 1000), {
        thanos: thanos(Resolution.FiveMinutes),
      });
      const hour = await writeBlock(bucket, '', series('x1h', 1000), { thanos: thanos(Resolution.OneHour) });
      const prom = await writeBlock(bucket, '', series('y', 1000));
      const gone = await writeBlock(bucket, '', series('z', 1000), {
        thanos: thanos(Resolution.FiveMinutes),
      });
      const catalog = new BlockCatalog(bucket, { now: () => NOW });
      await catalog.markForDeletion(gone.ulid);
      const snap = await catalog.refresh();
      const at = (r?: number) =>
        liveBlocks(snap, r === undefined ? {} : { resolution: r })
          .map((b) => b.meta.ulid)
          .sort();
      expect(at(Resolution.Raw)).toEqual([raw.ulid, prom.ulid].sort());
      expect(at(Resolution.FiveMinutes)).toEqual([fiveMin.ulid]);
      expect(at(Resolution.OneHour)).toEqual([hour.ulid]);
      expect(at()).toEqual([raw.ulid, fiveMin.ulid, hour.ulid, prom.ulid].sort());
      expect(snap.all.find((b) => b.meta.ulid === gone.ulid)?.resolution).toBe(Resolution.FiveMinutes);
    });

    it('reads each meta.json and mark once across refreshes, and a mark again when it changes', async () => {
      const spy = new Spy(bucket);
      const a = await writeBlock(spy, '', series('a', 1000));
      const b = await writeBlock(spy, '', series('b', 1000));
      const catalog = new BlockCatalog(spy, { now: () => NOW });
      await catalog.markNoCompact(a.ulid, 'manual');
      await catalog.refresh();
      await catalog.refresh();
      const c = await writeBlock(spy, '', series('c', 1000));
      const snap = await catalog.refresh();
      expect(snap.blocks.map((m) => m.ulid).sort()).toEqual([a.ulid, b.ulid, c.ulid].sort());
      for (const m of [a, b, c]) expect(spy.gets.get(`${m.ulid}/meta.json`)).toBe(1);
      expect(spy.gets.get(`${a.ulid}/no-compact-mark.json`)).toBe(1);
      // Another writer replaces the mark with a longer one: read again.
      await catalog.removeMark(a.ulid, noCompactMarkFormat);
      await catalog.markNoCompact(a.ulid, 'manual', 'with details now');
      expect((await catalog.refresh()).all.find((x) => x.meta.ulid === a.ulid)?.noCompactMark?.details).toBe(
        'with details now',
      );
      expect(spy.gets.get(`${a.ulid}/no-compact-mark.json`)).toBe(2);
    });

    it('fails a refresh when the store fails and keeps the last snapshot', async () => {
      const spy = new Spy(bucket);
      const a = await writeBlock(spy, '', series('a', 1000));
      const catalog = new BlockCatalog(spy);
      const first = await catalog.refresh();
      const b = await writeBlock(spy, '', series('b', 1000));
      spy.failGet = (k) => k === `${b.ulid}/meta.json`;
      const err = await catalog.refresh().catch((e: unknown) => e);
      expect(isStorageError(err, StorageErrorCode.Io) && err.retryable).toBe(true);
      expect(catalog.snapshot).toBe(first);
      expect(catalog.snapshot.blocks.map((m) => m.ulid)).toEqual([a.ulid]);
      spy.failGet = undefined;
      expect((await catalog.refresh()).blocks).toHaveLength(2);
    });

    it('deletes marked blocks after the delay in Thanos’ order, and finishes a deletion that stopped', async () => {
      const spy = new Spy(bucket);
      let now = NOW;
      const catalog = new BlockCatalog(spy, { now: () => now });
      const a = await writeBlock(spy, '', series('a', 1000));
      const b = await writeBlock(spy, '', series('b', 2000));
      const keep = await writeBlock(spy, '', series('c', 3000));
      await catalog.markForDeletion(a.ulid);
      await catalog.markForDeletion(b.ulid);
      await catalog.refresh();
      expect(await catalog.deleteMarked(60_000)).toEqual([]);
      now += 60_000;
      // b's deletion stops after meta.json went: b is then a partial block, still marked.
      spy.failDelete = (k) => k === `${b.ulid}/index`;
      await expect(catalog.deleteMarked(60_000)).rejects.toMatchObject({ code: 'io' });
      const mid = await catalog.refresh();
      expect(mid.blocks.map((m) => m.ulid)).toEqual([keep.ulid]);
      expect(mid.marked).toEqual([]);
      expect(mid.skipped.map((s) => [s.ulid, s.code, s.deletionMark?.id])).toEqual([
        [b.ulid, 'partial', b.ulid],
      ]);
      expect(await listAll(spy, `${a.ulid}/`, { recursive: true })).toEqual([]);
      expect((await listAll(spy, `${b.ulid}/`, { recursive: true })).map((o) => o.key)).toContain(
        `${b.ulid}/deletion-mark.json`,
      );
      spy.failDelete = undefined;
      expect(await catalog.deleteMarked(60_000)).toEqual([b.ulid]);
      expect(await listAll(spy, `${b.ulid}/`, { recursive: true })).toEqual([]);
      const end = await catalog.refresh();
      expect(end.all.map((x) => x.meta.ulid)).toEqual([keep.ulid]);
      expect(end.skipped).toEqual([]);
    });

    it('deletes a partial block (an abandoned upload) whole', async () => {
      await bucket.put('01ARZ3NDEKTSV4RRFFQ69G5FAV/index', new Uint8Array(10));
      await bucket.put('01ARZ3NDEKTSV4RRFFQ69G5FAV/chunks/000001', new Uint8Array(10));
      await deleteBlock(bucket, '01ARZ3NDEKTSV4RRFFQ69G5FAV');
      expect(await listAll(bucket, '', { recursive: true })).toEqual([]);
      await expect(deleteBlock(bucket, '')).rejects.toMatchObject({ code: 'invalid_argument' });
    });
  });
}

const tmpDirs: string[] = [];
afterAll(async () => {
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
});

catalogSuite('memory', async () => new MemoryObjectStore());
catalogSuite('filesystem', async () => {
  const d = await mkdtemp(join(tmpdir(), 'promstream-catalog-'));
  tmpDirs.push(d);
  return new FsObjectStore(d);
});
catalogSuite(
  'prefixed memory',
  async () => new PrefixedObjectStore(new MemoryObjectStore(), 'bucket-prefix'),
);

const s3 = await s3Backend();
let backend: S3Backend | undefined;
if (s3.ok) {
  backend = s3.backend;
  const b = s3.backend;
  const run = `catalog-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const store = new S3ObjectStore({
    bucket: b.bucket,
    endpoint: b.endpoint,
    region: b.region,
    accessKeyId: b.accessKeyId,
    secretAccessKey: b.secretAccessKey,
    forcePathStyle: b.forcePathStyle,
    // Small pages, so a refresh's recursive listing crosses pages.
    pageSize: 3,
  });
  let n = 0;
  catalogSuite(`s3 (${b.kind} ${b.endpoint})`, async () => new PrefixedObjectStore(store, `${run}/${n++}`));
  afterAll(async () => {
    for (const o of await listAll(store, `${run}/`, { recursive: true })) await store.delete(o.key);
    store.destroy();
    await backend?.stop();
  });
} else {
  announceSkip('block catalog: s3', s3.reason);
}
