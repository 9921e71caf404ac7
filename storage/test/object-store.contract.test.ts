import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { announceSkip, type S3Backend, s3Backend } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStorageError, StorageErrorCode } from '../src/errors.js';
import { objectStoreFromUrl } from '../src/objstore/from-url.js';
import { FsObjectStore } from '../src/objstore/fs.js';
import { MemoryObjectStore } from '../src/objstore/memory.js';
import { listAll, type ObjectStore, putStream, readChunks } from '../src/objstore/object-store.js';
import { PrefixedObjectStore } from '../src/objstore/prefixed.js';
import { S3ObjectStore } from '../src/objstore/s3.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => isStorageError(e) && e.code === code);
}

/** The contract every ObjectStore keeps; `make` returns an empty store. */
function contract(
  name: string,
  make: () => Promise<ObjectStore>,
  opts: {
    multipartBytes?: number;
    /**
     * False when the server, not our store, decides racing conditional creates and is not known to
     * serialize them (AWS S3 does; the versitygw posix backend in CI let 3 of 5 racing creates through
     * under load): then the race must still leave one whole body, with every loser told precondition_failed.
     */
    atomicConditionalCreate?: boolean;
  } = {},
): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let s: ObjectStore;
    beforeAll(async () => {
      s = await make();
    });

    it('puts and gets whole objects and ranges', async () => {
      const body = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
      await s.put('r/obj', body);
      expect(await s.get('r/obj')).toEqual(body);
      expect(await s.get('r/obj', { offset: 10, length: 20 })).toEqual(body.subarray(10, 30));
      expect(await s.get('r/obj', { offset: 990, length: 50 })).toEqual(body.subarray(990));
      expect((await s.get('r/obj', { offset: 1000, length: 5 })).length).toBe(0);
      expect((await s.get('r/obj', { offset: 5000, length: 5 })).length).toBe(0);
      expect((await s.get('r/obj', { offset: 3, length: 0 })).length).toBe(0);
    });

    it('reports a missing key as not_found and head as undefined', async () => {
      await expectCode(s.get('missing/key'), StorageErrorCode.NotFound);
      await expectCode(s.get('missing/key', { offset: 0, length: 3 }), StorageErrorCode.NotFound);
      expect(await s.head('missing/key')).toBeUndefined();
    });

    it('heads an object with its size', async () => {
      await s.put('h/one', enc.encode('hello'));
      expect(await s.head('h/one')).toMatchObject({ key: 'h/one', size: 5, isPrefix: false });
    });

    it('dates objects in listings and heads by their last write', async () => {
      // Whole seconds on S3; the store and this process share the machine's clock.
      const before = Math.floor(Date.now() / 1000) * 1000 - 1000;
      await s.put('m/obj', enc.encode('x'));
      const after = Date.now() + 1000;
      const listed = (await listAll(s, 'm/', { recursive: true }))[0]!;
      expect(listed.lastModified).toBeGreaterThanOrEqual(before);
      expect(listed.lastModified).toBeLessThanOrEqual(after);
      expect((await s.head('m/obj'))?.lastModified).toBe(listed.lastModified);
      const folded = await listAll(s, '');
      expect(folded.filter((o) => o.isPrefix).every((o) => o.lastModified === undefined)).toBe(true);
    });

    it('overwrites by default and refuses with ifNoneMatch', async () => {
      await s.put('c/obj', enc.encode('first'));
      await s.put('c/obj', enc.encode('second'));
      expect(dec.decode(await s.get('c/obj'))).toBe('second');
      await expectCode(
        s.put('c/obj', enc.encode('third'), { ifNoneMatch: true }),
        StorageErrorCode.PreconditionFailed,
      );
      expect(dec.decode(await s.get('c/obj'))).toBe('second');
      await s.put('c/new', enc.encode('created'), { ifNoneMatch: true });
      expect(dec.decode(await s.get('c/new'))).toBe('created');
    });

    it('lets exactly one of racing conditional creates win', async () => {
      const results = await Promise.allSettled(
        [0, 1, 2, 3, 4].map((i) => s.put('race/obj', enc.encode(`writer ${i}`), { ifNoneMatch: true })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      if (opts.atomicConditionalCreate === false) expect(won.length).toBeGreaterThanOrEqual(1);
      else expect(won.length).toBe(1);
      for (const r of results) {
        if (r.status === 'rejected')
          expect(isStorageError(r.reason, StorageErrorCode.PreconditionFailed)).toBe(true);
      }
      expect(dec.decode(await s.get('race/obj'))).toMatch(/^writer \d$/);
    });

    it('deletes, and deleting a missing key is fine', async () => {
      await s.put('d/a/b', enc.encode('x'));
      await s.delete('d/a/b');
      expect(await s.head('d/a/b')).toBeUndefined();
      await s.delete('d/a/b');
      expect(await listAll(s, 'd/')).toEqual([]);
    });

    it('lists recursively in key order and folds prefixes otherwise', async () => {
      const keys = ['l/b/2', 'l/a', 'l/b/1', 'l/c.txt', 'l/b0', 'l/d/e/f', 'l/bb/x'];
      for (const k of keys) await s.put(k, enc.encode(k));
      const all = await listAll(s, 'l/', { recursive: true });
      expect(all.map((o) => o.key)).toEqual([...keys].sort());
      expect(all.find((o) => o.key === 'l/c.txt')?.size).toBe(7);
      const top = await listAll(s, 'l/');
      expect(top.map((o) => [o.key, o.isPrefix])).toEqual([
        ['l/a', false],
        ['l/b/', true],
        ['l/b0', false],
        ['l/bb/', true],
        ['l/c.txt', false],
        ['l/d/', true],
      ]);
      const partial = await listAll(s, 'l/b', { recursive: true });
      expect(partial.map((o) => o.key)).toEqual(['l/b/1', 'l/b/2', 'l/b0', 'l/bb/x']);
      expect(await listAll(s, 'nothing/here/')).toEqual([]);
    });

    it('lists across many pages', async () => {
      const keys = Array.from({ length: 25 }, (_, i) => `p/k${String(i).padStart(3, '0')}`);
      await Promise.all(keys.map((k) => s.put(k, enc.encode(k))));
      expect((await listAll(s, 'p/')).map((o) => o.key)).toEqual(keys);
    });

    it('keeps large bodies intact', async () => {
      const n = opts.multipartBytes ?? 3 * 1024 * 1024 + 17;
      const big = new Uint8Array(n);
      for (let i = 0; i < n; i += 4096) big[i] = (i / 4096) & 0xff;
      big[n - 1] = 0xab;
      await s.put('big/obj', big);
      expect((await s.head('big/obj'))?.size).toBe(n);
      const back = await s.get('big/obj');
      expect(back.length).toBe(n);
      expect(Buffer.compare(Buffer.from(back), Buffer.from(big))).toBe(0);
      expect(await s.get('big/obj', { offset: n - 2, length: 10 })).toEqual(big.subarray(n - 2));
      await expectCode(s.put('big/obj', big, { ifNoneMatch: true }), StorageErrorCode.PreconditionFailed);
    });

    it('writes a streamed body in odd-sized chunks, small and past the multipart size', async () => {
      for (const [key, n] of [
        ['st/small', 70_001],
        ['st/big', opts.multipartBytes ?? 3 * 1024 * 1024 + 17],
      ] as const) {
        const body = Uint8Array.from({ length: n }, (_, i) => (i * 31 + (i >> 12)) & 0xff);
        async function* chunks(): AsyncIterable<Uint8Array> {
          for (let off = 0, k = 1; off < n; off += k * 65_537, k = (k % 7) + 1)
            yield body.subarray(off, Math.min(off + k * 65_537, n));
        }
        expect(await putStream(s, key, chunks())).toBe(n);
        expect((await s.head(key))?.size).toBe(n);
        expect(Buffer.compare(Buffer.from(await s.get(key)), Buffer.from(body))).toBe(0);
        // Read back as ranges, it writes the same object again (the copy path of export).
        expect(await putStream(s, `${key}-copy`, readChunks(s, key, n, 1_000_003))).toBe(n);
        expect(Buffer.compare(Buffer.from(await s.get(`${key}-copy`)), Buffer.from(body))).toBe(0);
      }
      await expectCode(
        putStream(
          s,
          'st/small',
          (async function* () {
            yield enc.encode('x');
          })(),
          { ifNoneMatch: true },
        ),
        StorageErrorCode.PreconditionFailed,
      );
    });

    it('leaves no object when the streamed body fails, and passes the failure on', async () => {
      const n = opts.multipartBytes ?? 3 * 1024 * 1024 + 17;
      const boom = new Error('source broke');
      async function* failing(): AsyncIterable<Uint8Array> {
        for (let off = 0; off < n; off += 1024 * 1024) yield new Uint8Array(Math.min(1024 * 1024, n - off));
        throw boom;
      }
      await expect(putStream(s, 'st/failed', failing())).rejects.toBe(boom);
      expect(await s.head('st/failed')).toBeUndefined();
      expect((await listAll(s, 'st/', { recursive: true })).map((o) => o.key)).not.toContain('st/failed');
    });

    it('rejects keys that are not paths', async () => {
      for (const k of ['', '/abs', 'a//b', 'a/../b', 'dir/']) {
        await expectCode(s.put(k, enc.encode('x')), StorageErrorCode.InvalidArgument);
      }
      await expectCode(s.get('a', { offset: -1, length: 2 }), StorageErrorCode.InvalidArgument);
    });
  });
}

const tmpDirs: string[] = [];
afterAll(async () => {
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
});

contract('memory', async () => new MemoryObjectStore());
contract('filesystem', async () => {
  const d = await mkdtemp(join(tmpdir(), 'promstream-objstore-'));
  tmpDirs.push(d);
  return new FsObjectStore(d);
});
contract('prefixed memory', async () => new PrefixedObjectStore(new MemoryObjectStore(), 'tenant-a'));

describe('MemoryObjectStore', () => {
  it('dates writes with its injected clock', async () => {
    let now = 1_000;
    const s = new MemoryObjectStore({ now: () => now });
    await s.put('a/b', enc.encode('x'));
    now = 5_000;
    await s.put('a/c', enc.encode('y'));
    expect((await listAll(s, 'a/', { recursive: true })).map((o) => o.lastModified)).toEqual([1_000, 5_000]);
    now = 9_000;
    await s.put('a/b', enc.encode('z'));
    expect((await s.head('a/b'))?.lastModified).toBe(9_000);
  });
});

const s3 = await s3Backend();
let backend: S3Backend | undefined;
if (s3.ok) {
  backend = s3.backend;
  const b = s3.backend;
  const run = `contract-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const store = new S3ObjectStore({
    bucket: b.bucket,
    endpoint: b.endpoint,
    region: b.region,
    accessKeyId: b.accessKeyId,
    secretAccessKey: b.secretAccessKey,
    forcePathStyle: b.forcePathStyle,
    pageSize: 4,
    multipartThreshold: 5 * 1024 * 1024,
    partSize: 5 * 1024 * 1024,
  });
  contract(`s3 (${b.kind} ${b.endpoint}, multipart)`, async () => new PrefixedObjectStore(store, run), {
    multipartBytes: 11 * 1024 * 1024 + 5,
    atomicConditionalCreate: b.endpoint.includes('amazonaws.com'),
  });
  afterAll(async () => {
    for (const o of await listAll(store, `${run}/`, { recursive: true })) await store.delete(o.key);
    store.destroy();
    await backend?.stop();
  });
} else {
  announceSkip('ObjectStore contract: s3', s3.reason);
}

describe('objectStoreFromUrl', () => {
  it('opens each scheme', () => {
    expect(objectStoreFromUrl('mem://')).toBeInstanceOf(MemoryObjectStore);
    expect(objectStoreFromUrl('file:///tmp/x')).toBeInstanceOf(FsObjectStore);
    expect(objectStoreFromUrl('/tmp/x')).toBeInstanceOf(FsObjectStore);
    expect(objectStoreFromUrl('s3://bucket?endpoint=http://127.0.0.1:1', {})).toBeInstanceOf(S3ObjectStore);
    const p = objectStoreFromUrl('s3://bucket/some/prefix/?endpoint=http://127.0.0.1:1', {});
    expect(p).toBeInstanceOf(PrefixedObjectStore);
    expect((p as PrefixedObjectStore).prefix).toBe('some/prefix/');
  });

  it('rejects a multipart size in an S3 URL that is not a positive number of bytes', () => {
    for (const bad of ['part-size=abc', 'multipart-threshold=0', 'part-size=1.5'])
      expect(() => objectStoreFromUrl(`s3://bucket?endpoint=http://127.0.0.1:1&${bad}`, {})).toThrowError(
        expect.objectContaining({ code: 'invalid_argument' }),
      );
    expect(
      objectStoreFromUrl(
        's3://bucket?endpoint=http://127.0.0.1:1&part-size=5242880&multipart-threshold=6000000',
        {},
      ),
    ).toBeInstanceOf(S3ObjectStore);
  });

  it('rejects unknown schemes and bucketless S3 URLs with invalid_argument', () => {
    expect(() => objectStoreFromUrl('ftp://x/y')).toThrowError(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
    expect(() => objectStoreFromUrl('s3:///x')).toThrowError(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
  });
});
