import { describe, expect, it } from 'vitest';
import { SeriesChunker } from '../src/block/chunker.js';
import {
  DEFAULT_SEGMENT_SIZE,
  SEGMENT_HEADER_LEN,
  SegmentWriter,
  segmentChunkSize,
} from '../src/block/chunks.js';
import { encodeMeta, parseMeta } from '../src/block/meta.js';
import { BlockReader } from '../src/block/reader.js';
import { deterministicUlid, isUlid, ulidTime } from '../src/block/ulid.js';
import { encodeBlock, type SeriesInput, writeBlock } from '../src/block/writer.js';
import { isStorageError, StorageError, StorageErrorCode } from '../src/errors.js';
import { type Labels, type Matcher, newMatcher, ValueType } from '../src/model.js';
import { MemoryObjectStore } from '../src/objstore/memory.js';
import type { ByteRange, ObjectStore } from '../src/objstore/object-store.js';
import { encodeXorChunk } from '../src/tsz/xor.js';

const BASE = 1_700_000_000_000;

function lbls(o: Record<string, string>): Labels {
  return Object.keys(o)
    .sort()
    .map((name) => ({ name, value: o[name]! }));
}

/** 60 series: job in {api, db, web} x instance 0..19, each 300 samples 15s apart from BASE + offset. */
function fixture(): { series: SeriesInput[]; samples: Map<string, [number, number][]> } {
  const series: SeriesInput[] = [];
  const samples = new Map<string, [number, number][]>();
  for (const job of ['api', 'db', 'web']) {
    for (let i = 0; i < 20; i++) {
      const labels = lbls({
        __name__: 'http_requests_total',
        job,
        instance: `i${i}`,
        ...(i % 2 === 0 ? { env: 'prod' } : {}),
      });
      const ch = new SeriesChunker(2 * 3600_000);
      const list: [number, number][] = [];
      for (let k = 0; k < 300; k++) {
        const t = BASE + k * 15_000 + i;
        ch.append(t, k * i);
        list.push([t, k * i]);
      }
      ch.flush();
      series.push({ labels, chunks: ch.chunks });
      samples.set(JSON.stringify(labels), list);
    }
  }
  return { series, samples };
}

/** A store that counts the bytes handed out by get. */
class CountingStore extends MemoryObjectStore {
  bytes = 0;
  gets = 0;
  override async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const b = await super.get(key, range);
    this.bytes += b.length;
    this.gets++;
    return b;
  }
}

async function openFixture(): Promise<{
  store: CountingStore;
  reader: BlockReader;
  fx: ReturnType<typeof fixture>;
}> {
  const store = new CountingStore();
  const fx = fixture();
  const meta = await writeBlock(store, 'tenant-a', fx.series, {
    thanos: { labels: { tenant: 'a' }, downsample: { resolution: 0 }, source: 'promstream' },
    promstream: { partition: 1, minOffset: 10, maxOffset: 20 },
  });
  const reader = await BlockReader.open(store, `tenant-a/${meta.ulid}`);
  return { store, reader, fx };
}

async function names(reader: BlockReader, matchers: Matcher[]): Promise<string[]> {
  const sel = await reader.select(matchers, -Infinity, Infinity);
  return sel.map(
    (s) =>
      `${s.labels.find((l) => l.name === 'job')!.value}/${s.labels.find((l) => l.name === 'instance')!.value}`,
  );
}

describe('block writer and reader', () => {
  it('writes the meta with stats, thanos and promstream sections', async () => {
    const { reader } = await openFixture();
    const m = reader.meta;
    expect(m.stats).toEqual({ numSamples: 60 * 300, numSeries: 60, numChunks: 60 * 3 });
    expect(m.minTime).toBe(BASE);
    expect(m.maxTime).toBe(BASE + 299 * 15_000 + 19 + 1);
    expect(m.thanos?.labels).toEqual({ tenant: 'a' });
    expect(m.promstream).toEqual({ partition: 1, minOffset: 10, maxOffset: 20 });
    expect(m.compaction).toEqual({ level: 1, sources: [m.ulid] });
  });

  it('is deterministic: same input, same bytes and ULID', () => {
    const a = encodeBlock(fixture().series);
    const b = encodeBlock(fixture().series.reverse());
    expect(a.meta.ulid).toBe(b.meta.ulid);
    expect(isUlid(a.meta.ulid)).toBe(true);
    expect(ulidTime(a.meta.ulid)).toBe(BASE);
    expect(a.files.map(([n]) => n)).toEqual(['chunks/000001', 'index', 'meta.json']);
    for (let i = 0; i < a.files.length; i++) expect(Buffer.compare(a.files[i]![1], b.files[i]![1])).toBe(0);
    const c = encodeBlock(fixture().series, { ulid: '01ARZ3NDEKTSV4RRFFQ69G5FAV' });
    expect(c.meta.ulid).toBe('01ARZ3NDEKTSV4RRFFQ69G5FAV');
  });

  it('lists label names and values from the postings table', async () => {
    const { reader } = await openFixture();
    expect(reader.labelNames()).toEqual(['__name__', 'env', 'instance', 'job']);
    expect(reader.labelValues('job')).toEqual(['api', 'db', 'web']);
    expect(reader.labelValues('env')).toEqual(['prod']);
    expect(reader.labelValues('nope')).toEqual([]);
  });

  it('selects by each matcher kind as Prometheus does', async () => {
    const { reader } = await openFixture();
    expect(await names(reader, [newMatcher('=', 'job', 'db'), newMatcher('=', 'instance', 'i3')])).toEqual([
      'db/i3',
    ]);
    expect((await names(reader, [newMatcher('!=', 'job', 'db')])).length).toBe(40);
    expect(
      await names(reader, [newMatcher('=~', 'instance', 'i1[0-2]'), newMatcher('=', 'job', 'web')]),
    ).toEqual(['web/i10', 'web/i12', 'web/i11']); // label order: with env (env < instance) first
    expect((await names(reader, [newMatcher('!~', 'job', 'api|db')])).length).toBe(20);
    // A label that is absent matches "": env="" selects the series without env.
    expect((await names(reader, [newMatcher('=', 'env', '')])).length).toBe(30);
    expect((await names(reader, [newMatcher('!=', 'env', '')])).length).toBe(30);
    expect((await names(reader, [newMatcher('=~', 'env', 'prod|')])).length).toBe(60);
    expect(await names(reader, [newMatcher('=', 'job', 'nope')])).toEqual([]);
    expect(await names(reader, [newMatcher('=', 'missing', 'x')])).toEqual([]);
  });

  it('returns exactly the samples in [mint, maxt] and reuses iterators', async () => {
    const { reader, fx } = await openFixture();
    const mint = BASE + 100 * 15_000;
    const maxt = BASE + 200 * 15_000;
    const sel = await reader.select([newMatcher('=', '__name__', 'http_requests_total')], mint, maxt);
    expect(sel.length).toBe(60);
    let it: ReturnType<(typeof sel)[0]['iterator']> | undefined;
    for (const s of sel) {
      it = s.iterator(it);
      const want = fx.samples.get(JSON.stringify(s.labels))!.filter(([t]) => t >= mint && t <= maxt);
      const got: [number, number][] = [];
      while (it.next() === ValueType.Float) got.push([it.atT(), it.at()]);
      expect(it.err()).toBeUndefined();
      expect(got).toEqual(want);
    }
    // Seek lands on the first sample at or after t and never moves back.
    const one = sel[5]!.iterator();
    expect(one.seek(BASE + 150 * 15_000)).toBe(ValueType.Float);
    const t1 = one.atT();
    expect(t1).toBeGreaterThanOrEqual(BASE + 150 * 15_000);
    expect(t1).toBeLessThan(BASE + 151 * 15_000 + 20);
    expect(one.seek(BASE)).toBe(ValueType.Float);
    expect(one.atT()).toBe(t1);
    expect(one.seek(maxt + 1)).toBe(ValueType.None);
    expect(await reader.select([newMatcher('=', 'job', 'db')], BASE - 10_000, BASE - 1)).toEqual([]);
  });

  it('reads only the byte ranges a select needs', async () => {
    const { store, reader } = await openFixture();
    const total =
      (await store.head(`${reader.dir}/index`))!.size +
      (await store.head(`${reader.dir}/chunks/000001`))!.size;
    store.bytes = 0;
    const sel = await reader.select(
      [newMatcher('=', 'job', 'db'), newMatcher('=', 'instance', 'i7')],
      -Infinity,
      Infinity,
    );
    expect(sel.length).toBe(1);
    expect(store.bytes).toBeLessThan(total / 4);
  });
});

/** Writes the fixture, lets `damage` change one file, and returns the error from opening and reading. */
async function damaged(file: string, damage: (b: Uint8Array) => Uint8Array): Promise<unknown> {
  const store = new MemoryObjectStore();
  const meta = await writeBlock(store, 't', fixture().series);
  const dir = `t/${meta.ulid}`;
  const key = `${dir}/${file}`;
  await store.put(key, damage(await store.get(key)));
  try {
    const r = await BlockReader.open(store, dir);
    for (const s of await r.select([newMatcher('=~', 'job', '.+')], -Infinity, Infinity)) {
      const it = s.iterator();
      while (it.next() !== ValueType.None) {}
      if (it.err() !== undefined) return it.err();
    }
    await r.verifyChunks();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('block label order', () => {
  it('sorts and finds values in UTF-8 byte order, not UTF-16 order', async () => {
    const store = new MemoryObjectStore();
    const values = ['\u{1F600}', 'a', '\uFFFD', 'z'];
    const meta = await writeBlock(
      store,
      '',
      values.map((v, i) => ({
        labels: lbls({ __name__: 'm', v }),
        chunks: [{ minTime: 1, maxTime: 1, bytes: encodeXorChunk([1], [i]) }],
      })),
    );
    const r = await BlockReader.open(store, meta.ulid);
    // U+FFFD is EF BF BD in UTF-8 and sorts before U+1F600 (F0 9F 98 80).
    expect(r.labelValues('v')).toEqual(['a', 'z', '\uFFFD', '\u{1F600}']);
    for (const v of values) {
      const sel = await r.select([newMatcher('=', 'v', v)], 0, 10);
      expect(sel.map((x) => x.labels.find((l) => l.name === 'v')!.value)).toEqual([v]);
    }
    expect(await r.index.postings('v', 'missing')).toEqual(new Uint32Array(0));
  });
});

describe('block reader read-ahead edges', () => {
  it('reads chunks longer than the read-ahead and series entries longer than their window', async () => {
    const store = new MemoryObjectStore();
    const n = 1500;
    const ts = Array.from({ length: n }, (_, i) => BASE + i * 1000);
    const vs = ts.map((_, i) => Math.sin(i) * 1e9 + i / 7);
    const big = encodeXorChunk(ts, vs);
    expect(big.length).toBeGreaterThan(8192);
    const long = 'x'.repeat(5000);
    const series: SeriesInput[] = [];
    for (let s = 0; s < 5; s++) {
      series.push({
        labels: lbls({ __name__: 'm', s: String(s), ...(s === 2 ? { long } : {}) }),
        chunks: [
          { minTime: ts[0]!, maxTime: ts[n - 1]!, bytes: big },
          {
            minTime: ts[n - 1]! + 1000,
            maxTime: ts[n - 1]! + 1000,
            bytes: encodeXorChunk([ts[n - 1]! + 1000], [s]),
          },
        ],
      });
    }
    const meta = await writeBlock(store, '', series);
    const r = await BlockReader.open(store, meta.ulid);
    const sel = await r.select([newMatcher('=~', 's', '1|2|3')], -Infinity, Infinity);
    expect(sel.map((x) => x.labels.find((l) => l.name === 's')!.value)).toEqual(['2', '1', '3']);
    for (const x of sel) {
      const it = x.iterator();
      let k = 0;
      while (it.next() === ValueType.Float) {
        if (k < n) expect([it.atT(), it.at()]).toEqual([ts[k], vs[k]]);
        k++;
      }
      expect(it.err()).toBeUndefined();
      expect(k).toBe(n + 1);
    }
    expect(sel[0]!.labels.find((l) => l.name === 'long')!.value).toBe(long);
  });
});

describe('block bad input', () => {
  const flip = (at: (b: Uint8Array) => number) => (b: Uint8Array) => {
    const c = b.slice();
    const i = at(c);
    c[i] = c[i]! ^ 0x5a;
    return c;
  };

  it('names block and section for a bad table of contents', async () => {
    const e = await damaged(
      'index',
      flip((b) => b.length - 10),
    );
    expect(isStorageError(e, StorageErrorCode.Corrupt)).toBe(true);
    expect((e as StorageError).section).toBe('index/toc');
    expect((e as StorageError).block).toMatch(/^t\/[0-9A-Z]{26}$/);
    expect((e as Error).message).toContain('index/toc');
  });

  it('names the symbols section for a bad symbol CRC', async () => {
    const e = await damaged(
      'index',
      flip(() => 12),
    );
    expect((e as StorageError).section).toBe('index/symbols');
  });

  it('reports a bad magic and a truncated index', async () => {
    expect(
      (
        (await damaged(
          'index',
          flip(() => 1),
        )) as StorageError
      ).section,
    ).toBe('index/header');
    const t = await damaged('index', (b) => b.subarray(0, b.length - 100));
    expect(isStorageError(t, StorageErrorCode.Corrupt)).toBe(true);
    expect((await damaged('index', (b) => b.subarray(0, 20))) as StorageError).toMatchObject({
      code: 'corrupt',
    });
  });

  it('names the chunk segment for a chunk CRC mismatch', async () => {
    const e = await damaged(
      'chunks/000001',
      flip(() => 200),
    );
    expect(isStorageError(e, StorageErrorCode.Corrupt)).toBe(true);
    expect((e as StorageError).section).toBe('chunks/000001');
  });

  it('reports a missing chunk file as not_found naming the segment', async () => {
    const store = new MemoryObjectStore();
    const meta = await writeBlock(store, '', fixture().series);
    await store.delete(`${meta.ulid}/chunks/000001`);
    const r = await BlockReader.open(store, meta.ulid);
    await expect(r.select([newMatcher('=', 'job', 'db')], -Infinity, Infinity)).rejects.toMatchObject({
      code: 'not_found',
      section: 'chunks/000001',
    });
  });

  it('rejects malformed meta.json naming the field', async () => {
    for (const [body, field] of [
      ['{not json', 'not JSON'],
      ['{"ulid":"x"}', 'ulid'],
      ['{"ulid":"01ARZ3NDEKTSV4RRFFQ69G5FAV","minTime":5,"maxTime":1,"version":1}', 'maxTime'],
    ] as const) {
      expect(() => parseMeta(new TextEncoder().encode(body), { block: 'b' })).toThrowError(field);
    }
    const e = await damaged('meta.json', () => new TextEncoder().encode('[]'));
    expect(e).toMatchObject({ code: 'corrupt', section: 'meta.json' });
    const good = encodeMeta({
      ulid: deterministicUlid(1, 'x'),
      minTime: 0,
      maxTime: 1,
      stats: { numSamples: 0, numSeries: 0, numChunks: 0 },
      compaction: { level: 1, sources: [] },
      version: 1,
    });
    expect(parseMeta(good, {}).maxTime).toBe(1);
  });

  it('never crashes on random index corruption (fuzz)', async () => {
    let seed = 1234;
    const r = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let trial = 0; trial < 150; trial++) {
      const e = await damaged('index', (b) => {
        const c = b.slice();
        const n = 1 + Math.floor(r() * 3);
        for (let k = 0; k < n; k++) c[Math.floor(r() * c.length)] = Math.floor(r() * 256);
        return c;
      });
      if (e !== undefined && !(e instanceof StorageError)) throw e;
    }
  });

  it('rejects duplicate series and unsorted chunks', () => {
    const s = fixture().series[0]!;
    expect(() => encodeBlock([s, s])).toThrowError(expect.objectContaining({ code: 'invalid_argument' }));
    const rev: SeriesInput = { labels: s.labels, chunks: [...s.chunks].reverse() };
    expect(() => encodeBlock([rev])).toThrowError(expect.objectContaining({ code: 'invalid_argument' }));
  });
});

export type { ObjectStore };

describe('segment files of a block encoded whole', () => {
  const chunks = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      Uint8Array.from({ length: 300 + (i % 50) }, (_, j) => (i + j) & 0xff),
    );

  it('are written into one piece when the writer is told their size, and into 1 MiB pieces otherwise', () => {
    const data = chunks(8000);
    const size = data.reduce((n, c) => n + segmentChunkSize(c.length), SEGMENT_HEADER_LEN);
    const hinted = new SegmentWriter(DEFAULT_SEGMENT_SIZE, size);
    const plain = new SegmentWriter(DEFAULT_SEGMENT_SIZE);
    for (const c of data) {
      hinted.add(c, 1);
      plain.add(c, 1);
    }
    const one = hinted.finishPieces();
    const many = plain.finishPieces();
    expect(one[0]!.length).toBe(1);
    expect(one[0]![0]!.length).toBe(size);
    expect(many[0]!.length).toBeGreaterThan(1);
    expect(Buffer.concat(many[0]!).equals(Buffer.from(one[0]![0]!))).toBe(true);
  });

  it('take exactly the bytes encodeBlock reserves for them', () => {
    const series: SeriesInput[] = [];
    for (let i = 0; i < 3000; i++) {
      const ch = new SeriesChunker(7_200_000);
      for (let t = 0; t < 7_200_000; t += 15_000) ch.append(t, Math.sin(t / 1e5 + i) * 1000);
      ch.flush();
      series.push({
        labels: [
          { name: '__name__', value: 'm' },
          { name: 'i', value: String(i) },
        ],
        chunks: ch.chunks,
      });
    }
    const segment = encodeBlock(series).files.find(([name]) => name === 'chunks/000001')![1];
    expect(segment.length).toBeGreaterThan(1024 * 1024);
    // The one piece is the segment itself: a reservation too large would show as spare buffer.
    expect(segment.buffer.byteLength).toBe(segment.length);
  });
});
