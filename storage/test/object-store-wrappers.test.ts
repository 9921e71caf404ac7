/** The object store wrappers: metrics on a registry of their own, and the local disk cache. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockReader } from '../src/block/reader.js';
import { writeBlock } from '../src/block/writer.js';
import { newMatcher } from '../src/model.js';
import { CachingObjectStore } from '../src/objstore/caching.js';
import { FsObjectStore } from '../src/objstore/fs.js';
import { InstrumentedObjectStore, ObjectStoreMetrics } from '../src/objstore/instrumented.js';
import { MemoryObjectStore } from '../src/objstore/memory.js';
import { encodeXorChunk } from '../src/tsz/xor.js';

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

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('store wrappers', () => {
  it('counts operations, failures and bytes on its own registry', async () => {
    const registry = new Registry();
    const s = new InstrumentedObjectStore(
      new MemoryObjectStore(),
      new ObjectStoreMetrics(registry),
      'blocks',
    );
    await s.put('a/b', new Uint8Array(100));
    await s.get('a/b', { offset: 0, length: 10 });
    await expect(s.get('missing')).rejects.toMatchObject({ code: 'not_found' });
    for await (const _ of s.list('a/')) {
    }
    const text = await registry.metrics();
    expect(text).toContain('promstream_objstore_operations_total{bucket="blocks",operation="put"} 1');
    expect(text).toContain('promstream_objstore_bytes_total{bucket="blocks",operation="get_range"} 10');
    expect(text).toContain(
      'promstream_objstore_operation_failures_total{bucket="blocks",operation="get",code="not_found"} 1',
    );
    expect(text).toContain('promstream_objstore_operations_total{bucket="blocks",operation="list"} 1');
  });

  it('serves repeated block reads from the local disk cache and drops entries on overwrite', async () => {
    const d = await mkdtemp(join(tmpdir(), 'promstream-cache-'));
    dirs.push(d);
    const remote = new MemoryObjectStore();
    const cache = new CachingObjectStore(remote, { cache: new FsObjectStore(d), maxBytes: 1 << 20 });
    const meta = await writeBlock(remote, 't', series('x', 1000));
    const read = async () => {
      const r = await BlockReader.open(cache, `t/${meta.ulid}`);
      return (await r.select([newMatcher('=', '__name__', 'x')], 0, 1e9)).length;
    };
    expect(await read()).toBe(1);
    const misses = cache.misses;
    expect(cache.hits).toBe(0);
    expect(await read()).toBe(1);
    expect(cache.misses).toBe(misses);
    expect(cache.hits).toBeGreaterThan(0);
    expect(cache.cachedBytes).toBeGreaterThan(0);
    // meta.json is not cached (marks and metas may change); index and chunks are.
    await cache.put(`t/${meta.ulid}/index`, new Uint8Array(3));
    await expect(BlockReader.open(cache, `t/${meta.ulid}`)).rejects.toMatchObject({ code: 'corrupt' });
  });

  it('evicts least recently used entries past its budget', async () => {
    const remote = new MemoryObjectStore();
    const local = new MemoryObjectStore();
    const cache = new CachingObjectStore(remote, { cache: local, maxBytes: 250, cacheable: () => true });
    for (const k of ['a', 'b', 'c']) await remote.put(k, new Uint8Array(100));
    await cache.get('a');
    await cache.get('b');
    await cache.get('a');
    await cache.get('c');
    expect(cache.cachedBytes).toBe(200);
    const before = cache.misses;
    await cache.get('a');
    expect(cache.misses).toBe(before);
    await cache.get('b');
    expect(cache.misses).toBe(before + 1);
  });
});
