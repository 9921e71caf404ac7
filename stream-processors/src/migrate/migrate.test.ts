import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlockCatalog,
  BlockReader,
  FsObjectStore,
  formatLabels,
  MemoryObjectStore,
  newMatcher,
  type ObjectStore,
  PrefixedObjectStore,
  S3ObjectStore,
  SeriesChunker,
  tenantStore,
  writeBlock,
} from '@promstream/storage';
import { announceSkip, prometheusReference, realS3 } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBlocks } from './export-blocks.js';
import { importBlocks } from './import-blocks.js';
import { importOpenMetrics } from './import-openmetrics.js';
import type { MigrateProgress } from './progress.js';

const HOUR = 3600_000;
/** 2023-11-14T22:13:20Z, a round start well after the epoch. */
const T0 = 1_700_000_000_000;

/** An OpenMetrics text of a few series over `hours`, one sample every 15 s, and the samples it holds. */
function openMetrics(hours: number): { text: string; samples: Map<string, [number, number][]> } {
  const samples = new Map<string, [number, number][]>();
  const lines = ['# TYPE http_requests counter', '# TYPE temperature gauge'];
  for (let t = T0; t < T0 + hours * HOUR; t += 15_000) {
    for (const code of ['200', '500']) {
      const v = Math.floor((t - T0) / 1000) * (code === '200' ? 3 : 1);
      lines.push(`http_requests_total{code="${code}"} ${v} ${t / 1000}`);
      const key = `{__name__="http_requests_total", code="${code}"}`;
      samples.set(key, [...(samples.get(key) ?? []), [t, v]]);
    }
    // Adding 0 turns -0 into 0, as the text form writes it.
    const g = Math.round(Math.sin((t - T0) / 600_000) * 1000) / 100 + 0;
    lines.push(`temperature{room="lab"} ${g} ${t / 1000}`);
    const gauge = '{__name__="temperature", room="lab"}';
    samples.set(gauge, [...(samples.get(gauge) ?? []), [t, g]]);
  }
  lines.push('# EOF');
  return { text: `${lines.join('\n')}\n`, samples };
}

/** Every sample of every block of a tenant, keyed by series. */
async function readAll(store: ObjectStore, tenant: string): Promise<Map<string, [number, number][]>> {
  const out = new Map<string, [number, number][]>();
  const snap = await new BlockCatalog(tenantStore(store, tenant)).refresh();
  expect(snap.skipped).toEqual([]);
  for (const meta of snap.blocks) {
    const reader = await BlockReader.open(store, `${tenant}/${meta.ulid}`);
    for (const s of await reader.select([newMatcher('=~', '__name__', '.+')], -Infinity, Infinity)) {
      const key = formatLabels(s.labels);
      const list = out.get(key) ?? [];
      const it = s.iterator();
      while (it.next() !== 0) {
        list.push([it.atT(), it.at()]);
      }
      expect(it.err()).toBeUndefined();
      out.set(key, list);
    }
  }
  for (const list of out.values()) list.sort((a, b) => a[0] - b[0]);
  return out;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'promstream-migrate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('import blocks', () => {
  const reference = prometheusReference();
  const promtool = reference.ok ? reference.backend.promtool : undefined;
  if (!reference.ok) announceSkip('import blocks from promtool 3.16', reference.reason);

  it.skipIf(promtool === undefined)(
    'imports promtool-created blocks and reads back identical samples',
    async () => {
      const { text, samples } = openMetrics(5);
      const om = join(dir, 'in.om');
      await writeFile(om, text);
      const blocksDir = join(dir, 'promtool-blocks');
      execFileSync(promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', om, blocksDir], {
        stdio: 'pipe',
      });
      const store = new FsObjectStore(join(dir, 'bucket-a'));
      const seen: MigrateProgress[] = [];
      const first = await importBlocks(blocksDir, store, {
        tenant: 'team-a',
        onProgress: (p) => seen.push({ ...p }),
      });
      // Five hours from a time that is not on a 2h boundary: three or four aligned blocks.
      expect(first.copied.length).toBeGreaterThanOrEqual(3);
      expect(first.skipped).toEqual([]);
      expect(first.samples).toBe(5 * 240 * 3);
      const last = seen[seen.length - 1]!;
      expect(last.blocks).toBe(last.totalBlocks);
      expect(last.bytes).toBe(last.totalBytes);

      const back = await readAll(store, 'team-a');
      expect([...back.keys()].sort()).toEqual([...samples.keys()].sort());
      for (const [k, list] of samples) expect(back.get(k)).toEqual(list);

      // The bucket's meta.json carries a thanos section naming the tenant.
      const meta = JSON.parse(
        new TextDecoder().decode(await store.get(`team-a/${first.copied[0]}/meta.json`)),
      );
      expect(meta.thanos).toMatchObject({ labels: { tenant: 'team-a' }, downsample: { resolution: 0 } });

      // Idempotent: a second run skips every block and writes nothing.
      const second = await importBlocks(blocksDir, store, { tenant: 'team-a' });
      expect(second.copied).toEqual([]);
      expect(second.skipped.sort()).toEqual([...first.copied].sort());
      expect(second.bytes).toBe(0);
    },
  );

  it.skipIf(promtool === undefined)(
    'finishes an interrupted import: a block without meta.json is copied again',
    async () => {
      const { text, samples } = openMetrics(3);
      const om = join(dir, 'in3.om');
      await writeFile(om, text);
      const blocksDir = join(dir, 'promtool-blocks-3');
      execFileSync(promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', om, blocksDir], {
        stdio: 'pipe',
      });
      const store = new MemoryObjectStore();
      const first = await importBlocks(blocksDir, store, { tenant: 't' });
      // Simulate a crash before meta.json of one block went up.
      const victim = first.copied[0]!;
      await store.delete(`t/${victim}/meta.json`);
      await store.delete(`t/${victim}/index`);
      const again = await importBlocks(blocksDir, store, { tenant: 't' });
      expect(again.copied).toEqual([victim]);
      const back = await readAll(store, 't');
      for (const [k, list] of samples) expect(back.get(k)).toEqual(list);
    },
  );

  it('rejects a directory without blocks and a bad tenant with typed errors', async () => {
    const empty = join(dir, 'empty');
    execFileSync('mkdir', ['-p', empty]);
    await expect(importBlocks(empty, new MemoryObjectStore())).rejects.toMatchObject({ code: 'NOT_A_BLOCK' });
    await expect(importBlocks(join(dir, 'nope'), new MemoryObjectStore())).rejects.toMatchObject({
      code: 'SOURCE_READ',
    });
    await expect(importBlocks(empty, new MemoryObjectStore(), { tenant: 'a/b' })).rejects.toMatchObject({
      code: 'BAD_OPTIONS',
    });
  });
});

describe('import openmetrics', () => {
  it('writes blocks to the bucket and reads back the same samples; a rerun skips them', async () => {
    const { text, samples } = openMetrics(4);
    const om = join(dir, 'om4.om');
    await writeFile(om, text);
    const store = new FsObjectStore(join(dir, 'bucket-om'));
    const first = await importOpenMetrics(om, store, { tenant: 'om' });
    expect(first.copied.length).toBeGreaterThanOrEqual(2);
    expect(first.samples).toBe(4 * 240 * 3);
    const back = await readAll(store, 'om');
    for (const [k, list] of samples) expect(back.get(k)).toEqual(list);
    const second = await importOpenMetrics(om, store, { tenant: 'om' });
    expect(second.copied).toEqual([]);
    expect(second.skipped.length).toBe(first.copied.length);
  });

  it('answers bad input with BAD_INPUT', async () => {
    const om = join(dir, 'bad.om');
    await writeFile(om, 'metric{ 1 2\n# EOF\n');
    await expect(importOpenMetrics(om, new MemoryObjectStore())).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('export blocks', () => {
  it('copies only blocks overlapping the range between two filesystem stores, idempotently', async () => {
    const { text } = openMetrics(6);
    const om = join(dir, 'om6.om');
    await writeFile(om, text);
    const source = new FsObjectStore(join(dir, 'export-src'));
    await importOpenMetrics(om, source, { tenant: 'x', blockDuration: 2 * HOUR });
    await importOpenMetrics(om, source, { tenant: 'y', blockDuration: 2 * HOUR });
    const all = (await new BlockCatalog(tenantStore(source, 'x')).refresh()).blocks;
    expect(all.length).toBeGreaterThanOrEqual(3);
    // A range inside the second block only.
    const second = all[1]!;
    const dest = new FsObjectStore(join(dir, 'export-dst'));
    const r = await exportBlocks(source, dest, { from: second.minTime + 1, to: second.minTime + 2 });
    expect(r.copied).toEqual([second.ulid, second.ulid]);
    const got = await readAll(dest, 'x');
    const want = new Map<string, [number, number][]>();
    const reader = await BlockReader.open(source, `x/${second.ulid}`);
    for (const s of await reader.select([newMatcher('=~', '__name__', '.+')], -Infinity, Infinity)) {
      const it = s.iterator();
      const list: [number, number][] = [];
      while (it.next() !== 0) list.push([it.atT(), it.at()]);
      want.set(formatLabels(s.labels), list);
    }
    expect(got).toEqual(want);
    // Only tenant y, whole range: the already-copied block is skipped.
    const r2 = await exportBlocks(source, dest, { tenants: ['y'] });
    expect(r2.skipped).toEqual([second.ulid]);
    expect(r2.copied.length).toBe(all.length - 1);
    expect((await new BlockCatalog(tenantStore(dest, 'y')).refresh()).blocks.length).toBe(all.length);
  });

  it('rejects an empty range', async () => {
    await expect(
      exportBlocks(new MemoryObjectStore(), new MemoryObjectStore(), { from: 10, to: 10 }),
    ).rejects.toMatchObject({ code: 'BAD_OPTIONS' });
  });
});

describe('import into S3 and export back', () => {
  const s3 = realS3();
  const reference = prometheusReference();
  const promtool = reference.ok ? reference.backend.promtool : undefined;
  if (!s3.ok) announceSkip('import blocks into S3', s3.reason);
  else if (!reference.ok) announceSkip('import blocks into S3', reference.reason);

  it.skipIf(!s3.ok || promtool === undefined)(
    'imports promtool blocks into the real S3 server and exports them to a filesystem bucket unchanged',
    async () => {
      if (!s3.ok) throw new Error(s3.reason);
      const b = s3.backend;
      const raw = new S3ObjectStore({
        bucket: b.bucket,
        endpoint: b.endpoint,
        region: b.region,
        accessKeyId: b.accessKeyId,
        secretAccessKey: b.secretAccessKey,
        forcePathStyle: b.forcePathStyle,
      });
      const run = `migrate-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      const store = new PrefixedObjectStore(raw, run);
      try {
        const { text, samples } = openMetrics(3);
        const om = join(dir, 's3.om');
        await writeFile(om, text);
        const blocksDir = join(dir, 'promtool-blocks-s3');
        execFileSync(promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', om, blocksDir], {
          stdio: 'pipe',
        });
        const r = await importBlocks(blocksDir, store, { tenant: 's3t' });
        expect(r.copied.length).toBeGreaterThanOrEqual(2);
        expect(await readAll(store, 's3t')).toEqual(samples);
        const dest = new FsObjectStore(join(dir, 'from-s3'));
        const e = await exportBlocks(store, dest);
        expect(e.copied.sort()).toEqual([...r.copied].sort());
        expect(await readAll(dest, 's3t')).toEqual(samples);
      } finally {
        for await (const o of raw.list(`${run}/`, { recursive: true })) await raw.delete(o.key);
        raw.destroy();
      }
    },
  );
});

describe('import and export of a block larger than a multipart part', () => {
  const s3 = realS3();
  if (!s3.ok) announceSkip('streamed block copy through S3', s3.reason);

  it.skipIf(!s3.ok)(
    'streams a 10 MiB chunk file into the S3 server in parts and back out in ranges, byte for byte',
    async () => {
      if (!s3.ok) throw new Error(s3.reason);
      const b = s3.backend;
      const parts: number[] = [];
      const raw = new S3ObjectStore({
        bucket: b.bucket,
        endpoint: b.endpoint,
        region: b.region,
        accessKeyId: b.accessKeyId,
        secretAccessKey: b.secretAccessKey,
        forcePathStyle: b.forcePathStyle,
        multipartThreshold: 5 * 1024 * 1024,
        partSize: 5 * 1024 * 1024,
        onPartUploaded: (_key, n) => parts.push(n),
      });
      const run = `migrate-big-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      const bucket = new PrefixedObjectStore(raw, run);
      try {
        // 200 series of 2 h at 1 s with values that do not compress: a chunk file of about 10 MiB.
        const series = [];
        let x = 12345;
        for (let i = 0; i < 200; i++) {
          const ch = new SeriesChunker(2 * HOUR);
          for (let t = T0; t < T0 + 2 * HOUR; t += 1000) {
            x = (x * 1103515245 + 12345) % 2147483648;
            ch.append(t, x / 7);
          }
          ch.flush();
          series.push({
            labels: [
              { name: '__name__', value: 'noise' },
              { name: 'i', value: String(i) },
            ],
            chunks: ch.chunks,
          });
        }
        const local = new FsObjectStore(join(dir, 'big-src'));
        const meta = await writeBlock(local, 't', series, {
          thanos: { labels: { tenant: 't' }, downsample: { resolution: 0 }, source: 'promstream' },
        });
        const chunkFile = await readFile(join(dir, 'big-src', 't', meta.ulid, 'chunks', '000001'));
        expect(chunkFile.length).toBeGreaterThan(10 * 1024 * 1024);

        const imported = await importBlocks(join(dir, 'big-src', 't'), bucket, { tenant: 't' });
        expect(imported.copied).toEqual([meta.ulid]);
        expect(parts.length, 'the chunk file went up in parts').toBeGreaterThanOrEqual(3);

        const dest = new FsObjectStore(join(dir, 'big-dest'));
        const exported = await exportBlocks(bucket, dest);
        expect(exported.copied).toEqual([meta.ulid]);
        const back = await readFile(join(dir, 'big-dest', 't', meta.ulid, 'chunks', '000001'));
        expect(Buffer.compare(back, chunkFile)).toBe(0);
        expect((await readAll(dest, 't')).size).toBe(200);
      } finally {
        for await (const o of raw.list(`${run}/`, { recursive: true })) await raw.delete(o.key);
        raw.destroy();
      }
    },
  );
});
