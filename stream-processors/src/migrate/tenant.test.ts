import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAll, MemoryObjectStore } from '@promstream/storage';
import { BAD_TENANT_IDS } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBlocks } from './export-blocks.js';
import { importBlocks } from './import-blocks.js';
import { importOpenMetrics } from './import-openmetrics.js';
import { importRemoteRead } from './import-remote-read.js';
import { importOpenMetricsToLog, importRemoteReadToLog, type SeriesSink } from './import-to-log.js';

// Every import and export refuses a tenant the storage package's rule
// refuses, with BAD_OPTIONS and the rule's reason, before it writes anything
// to a bucket or the log (or even reads its source).

let dir: string;
let om: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'promstream-migrate-tenant-'));
  om = join(dir, 'in.om');
  await writeFile(om, '# TYPE x gauge\nx 1 1700000000\n# EOF\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A log sink that records what reaches it. */
function recordingSink(): SeriesSink & { writes: number } {
  const sink = {
    writes: 0,
    async write() {
      sink.writes++;
      return { records: 1, bytes: 1 };
    },
  };
  return sink;
}

/** A fetch that fails the test if the import reads its source. */
const noFetch = (async () => {
  throw new Error('the source was read before the tenant was checked');
}) as unknown as typeof fetch;

describe.each(BAD_TENANT_IDS)('tenant $name', ({ id }) => {
  const refused = { code: 'BAD_OPTIONS', message: expect.stringMatching(/tenant ID/) };

  it('is refused by every import into a bucket, which writes nothing', async () => {
    const store = new MemoryObjectStore();
    await expect(importBlocks(dir, store, { tenant: id })).rejects.toMatchObject(refused);
    await expect(importOpenMetrics(om, store, { tenant: id })).rejects.toMatchObject(refused);
    const range = { from: 0, to: 3_600_000, match: ['up'], tenant: id, fetch: noFetch };
    await expect(importRemoteRead('http://127.0.0.1:1/api/v1/read', store, range)).rejects.toMatchObject(
      refused,
    );
    expect(await listAll(store, '', { recursive: true })).toEqual([]);
  });

  it('is refused by every import onto the log, which writes nothing', async () => {
    const sink = recordingSink();
    await expect(importOpenMetricsToLog(om, sink, { tenant: id })).rejects.toMatchObject(refused);
    const range = { from: 0, to: 3_600_000, match: ['up'], tenant: id, fetch: noFetch };
    await expect(importRemoteReadToLog('http://127.0.0.1:1/api/v1/read', sink, range)).rejects.toMatchObject(
      refused,
    );
    expect(sink.writes).toBe(0);
  });

  it('is refused by an export, which copies nothing', async () => {
    const source = new MemoryObjectStore();
    await source.put('team-a/01ARZ3NDEKTSV4RRFFQ69G5FAV/meta.json', new Uint8Array(1));
    const dest = new MemoryObjectStore();
    await expect(exportBlocks(source, dest, { tenants: ['team-a', id] })).rejects.toMatchObject(refused);
    expect(await listAll(dest, '', { recursive: true })).toEqual([]);
  });
});
