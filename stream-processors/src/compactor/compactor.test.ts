import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlockCatalog,
  type BlockMeta,
  BlockReader,
  blockSeries,
  compactBlocks,
  FsObjectStore,
  listAll,
  MemoryObjectStore,
  type ObjectStore,
  PrefixedObjectStore,
  S3ObjectStore,
  SeriesChunker,
  tenantStore,
  ValueType,
  writeBlock,
  XorIterator,
} from '@promstream/storage';
import { announceSkip, s3Backend } from '@promstream/testkit';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { Compactor, type CompactorOptions } from './compactor.js';
import { compactorMetrics } from './metrics.js';
import { RES_5M } from './planner.js';

const H = 3600 * 1000;
const STEP = 60_000;
const SERIES = 4;

function value(i: number, t: number): number {
  return Math.floor(t / STEP) * (i + 1);
}

/** Writes 2h raw blocks covering [0, hours) for a tenant, as the block builder does. */
async function seed(store: ObjectStore, tenant: string, hours: number): Promise<BlockMeta[]> {
  const out: BlockMeta[] = [];
  for (let from = 0; from < hours * H; from += 2 * H) {
    const series = [];
    for (let i = 0; i < SERIES; i++) {
      const ch = new SeriesChunker(2 * H);
      for (let t = from; t < from + 2 * H; t += STEP) ch.append(t, value(i, t));
      ch.flush();
      series.push({
        labels: [
          { name: '__name__', value: 'up' },
          { name: 'i', value: String(i) },
        ],
        chunks: ch.chunks,
      });
    }
    out.push(
      await writeBlock(store, tenant, series, {
        minTime: from,
        maxTime: from + 2 * H,
        thanos: { labels: { tenant }, downsample: { resolution: 0 }, source: 'promstream' },
        promstream: { partition: 0, minOffset: from / STEP, maxOffset: (from + 2 * H) / STEP - 1, tenant },
      }),
    );
  }
  return out;
}

function compactor(store: ObjectStore, extra: Partial<CompactorOptions> = {}): Compactor {
  return new Compactor({
    store,
    logger: pino({ level: 'silent' }),
    metrics: compactorMetrics(new Registry()),
    holder: `test-${Math.random()}`,
    levels: [2 * H, 8 * H, 48 * H],
    deleteDelayMs: 0,
    ...extra,
  });
}

/** Every raw sample of a tenant's live raw blocks, by series, checked for duplicates. */
async function rawSamples(store: ObjectStore, tenant: string): Promise<Map<string, number[]>> {
  const catalog = new BlockCatalog(tenantStore(store, tenant));
  const snap = await catalog.refresh();
  const out = new Map<string, number[]>();
  const it = new XorIterator();
  for (const b of snap.all) {
    if (b.deletionMark !== undefined || b.resolution !== 0) continue;
    const r = await BlockReader.open(catalog.store, b.meta.ulid, b.meta);
    for await (const s of blockSeries(r)) {
      const key = s.labels.map((l) => l.value).join(',');
      const ts = out.get(key) ?? [];
      for (const c of s.chunks) {
        it.reset(c.bytes);
        while (it.next() === ValueType.Float) {
          expect(it.at()).toBe(value(Number(s.labels[1]!.value), it.atT()));
          ts.push(it.atT());
        }
      }
      out.set(key, ts);
    }
  }
  for (const ts of out.values()) ts.sort((a, b) => a - b);
  return out;
}

async function liveBlocks(store: ObjectStore, tenant: string) {
  const snap = await new BlockCatalog(tenantStore(store, tenant)).refresh();
  return snap.all
    .filter((b) => b.deletionMark === undefined)
    .map((b) => [b.resolution, b.meta.minTime / H, b.meta.maxTime / H])
    .sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
}

const EXPECTED = [
  [0, 0, 48],
  [0, 48, 50],
  [RES_5M, 0, 48],
];

function suite(name: string, make: () => Promise<ObjectStore>): void {
  describe(`compactor (${name})`, () => {
    it('compacts 2h blocks up to 2d per tenant, downsamples the 2d block, loses and duplicates nothing', async () => {
      const store = await make();
      await seed(store, 'tenant-a', 50);
      await seed(store, 'tenant-b', 10);
      const before = await rawSamples(store, 'tenant-a');
      const c = compactor(store);
      const report = await c.runOnce();
      expect(report.leased).toBe(true);
      expect(await liveBlocks(store, 'tenant-a')).toEqual(EXPECTED);
      expect(await liveBlocks(store, 'tenant-b')).toEqual([
        [0, 0, 8],
        [0, 8, 10],
      ]);
      expect(await rawSamples(store, 'tenant-a')).toEqual(before);
      // The sources are deleted (delay 0): only live blocks remain in the bucket.
      const snap = await new BlockCatalog(tenantStore(store, 'tenant-a')).refresh();
      expect(snap.marked).toEqual([]);
      expect(snap.all.length).toBe(3);
      // A second pass finds nothing to do.
      const again = await c.runOnce();
      expect([...again.compacted, ...again.downsampled, ...again.markedForDeletion]).toEqual([]);
      await c.stop();
    });

    it('finishes a compaction cut before its sources were marked, without compacting twice', async () => {
      const store = await make();
      const metas = await seed(store, 'tenant-a', 10);
      // A crash after the upload of the compacted block, before any deletion mark.
      const first = await compactBlocks(tenantStore(store, 'tenant-a'), '', metas.slice(0, 4));
      const before = await rawSamples(store, 'tenant-a');
      const report = await compactor(store).runOnce();
      expect(report.compacted).toEqual([]);
      expect(report.markedForDeletion.sort()).toEqual(
        metas
          .slice(0, 4)
          .map((m) => m.ulid)
          .sort(),
      );
      expect(await liveBlocks(store, 'tenant-a')).toEqual([
        [0, 0, 8],
        [0, 8, 10],
      ]);
      const snap = await new BlockCatalog(tenantStore(store, 'tenant-a')).refresh();
      expect(snap.all.map((b) => b.meta.ulid)).toContain(first.meta.ulid);
      // Before the marks, the sources and the new block both held the samples; now once.
      const after = await rawSamples(store, 'tenant-a');
      expect(before.get('up,0')!.length).toBe((18 * H) / STEP);
      for (const ts of after.values()) expect(new Set(ts).size).toBe(ts.length);
      expect(after.get('up,0')!.length).toBe((10 * H) / STEP);
    });

    it('marks a corrupt block no-compact, never deletes it, and compacts the rest', async () => {
      const store = await make();
      const metas = await seed(store, 'tenant-a', 10);
      const bad = metas[1]!;
      const key = `tenant-a/${bad.ulid}/chunks/000001`;
      const bytes = await store.get(key);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
      await store.put(key, bytes);
      const registry = new Registry();
      const metrics = compactorMetrics(registry);
      const report = await compactor(store, { metrics }).runOnce();
      expect(report.noCompact).toEqual([bad.ulid]);
      const snap = await new BlockCatalog(tenantStore(store, 'tenant-a')).refresh();
      const marked = snap.all.find((b) => b.meta.ulid === bad.ulid)!;
      expect(marked.noCompactMark?.details).toMatch(/CRC32C/);
      expect(marked.deletionMark).toBeUndefined();
      expect(
        await registry.getSingleMetricAsString('promstream_compactor_blocks_marked_no_compact_total'),
      ).toMatch(/code="corrupt"} 1/);
      // The blocks after the corrupt one still compact: 4-6 and 6-8 (8-10 is the newest).
      expect(await liveBlocks(store, 'tenant-a')).toEqual([
        [0, 0, 2],
        [0, 2, 4],
        [0, 4, 8],
        [0, 8, 10],
      ]);
    });

    it('lets one compactor work at a time', async () => {
      const store = await make();
      await seed(store, 'tenant-a', 10);
      const a = compactor(store);
      const b = compactor(store);
      expect((await a.runOnce()).leased).toBe(true);
      expect((await b.runOnce()).leased).toBe(false);
      await a.stop();
      expect((await b.runOnce()).leased).toBe(true);
    });

    it('applies retention per resolution and deletes partial uploads after their delay', async () => {
      const store = await make();
      await seed(store, 'tenant-a', 50);
      await store.put('tenant-a/01HZZZZZZZZZZZZZZZZZZZZZZZ/index', new Uint8Array([1, 2, 3]));
      const now = Date.now() + 3 * 24 * H;
      const report = await compactor(store, {
        retention: { raw: 1, '5m': 0, '1h': 0 },
        partialUploadDelayMs: 24 * H,
        now: () => now,
      }).runOnce();
      expect(report.compacted.length).toBeGreaterThan(0);
      // Raw blocks are past a 1 ms retention; the 5m block is kept forever.
      expect(await liveBlocks(store, 'tenant-a')).toEqual([[RES_5M, 0, 48]]);
      expect(await listAll(store, 'tenant-a/01HZZZZZZZZZZZZZZZZZZZZZZZ/', { recursive: true })).toEqual([]);
    });
  });
}

const dirs: string[] = [];
suite('memory', async () => new MemoryObjectStore());
suite('filesystem', async () => {
  const d = await mkdtemp(join(tmpdir(), 'compactor-'));
  dirs.push(d);
  return new FsObjectStore(d);
});

const s3 = await s3Backend();
const s3Stores: S3ObjectStore[] = [];
if (s3.ok) {
  const b = s3.backend;
  suite(`s3 ${b.endpoint}`, async () => {
    const store = new S3ObjectStore({
      bucket: b.bucket,
      endpoint: b.endpoint,
      region: b.region,
      accessKeyId: b.accessKeyId,
      secretAccessKey: b.secretAccessKey,
      forcePathStyle: b.forcePathStyle,
    });
    s3Stores.push(store);
    return new PrefixedObjectStore(
      store,
      `compactor-test-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    );
  });
} else {
  announceSkip('compactor: s3', s3.reason);
}

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  for (const s of s3Stores) {
    for (const o of await listAll(s, 'compactor-test-', { recursive: true })) await s.delete(o.key);
    s.destroy();
  }
  if (s3.ok) await s3.backend.stop();
});
