import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BlockMeta,
  type ByteRange,
  downsampleBlock,
  FsObjectStore,
  type ListOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  RES_1H,
  RES_5M,
  SeriesChunker,
  writeBlock,
} from '@promstream/storage';
import { serveBlocks } from '../serve-blocks.js';

/**
 * A 30-day range query at a 1h step over one bucket holding raw blocks and
 * their 5m and 1h downsamples (as the compactor leaves it): latency and bytes
 * read from the bucket when the query reads raw data, and when it reads the
 * resolution `max_source_resolution` picks. The query server keeps no block
 * cache (every select reads the bucket), so the bytes are what a cold query
 * reads. Two queries: the issue's `sum by (job) (rate(x[1h]))` at `auto`
 * (step/5 = 12m, so 5m blocks; `rate` over 1h may not read 1h data, Thanos
 * caps it at half the range) and `sum by (job) (rate(x[2h]))` at `1h`.
 *
 * Environment: BENCH_SERIES (default 500), BENCH_DAYS (30), BENCH_INTERVAL_S
 * (raw sample interval, 60), BENCH_RUNS (5), BENCH_KEEP=1 keeps the
 * directory. Prints the medians and the ratios.
 */

const H = 3600 * 1000;
const DAY = 24 * H;
const BLOCK = 2 * DAY;
const T0 = 1_700_006_400_000;

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v);
}

/** Counts the bytes every get returns. */
class CountingStore implements ObjectStore {
  bytesRead = 0;
  constructor(private readonly inner: ObjectStore) {}
  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const b = await this.inner.get(key, range);
    this.bytesRead += b.length;
    return b;
  }
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<void> {
    return this.inner.put(key, body, options);
  }
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix, options);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }
}

/** One raw block of [from, from + BLOCK): float counters sampled every minute, resetting now and then. */
async function rawBlock(
  store: ObjectStore,
  series: number,
  from: number,
  interval: number,
): Promise<BlockMeta> {
  const input = [];
  for (let s = 0; s < series; s++) {
    const ch = new SeriesChunker(2 * H);
    let v = 0;
    for (let t = from; t < from + BLOCK; t += interval) {
      // Fractional increments, as counters of seconds or bytes rates have: raw floats do not compress to a few bits.
      const k = t / interval + s;
      v = k % 50_000 === 0 ? 0 : v + (Math.imul(k, 2654435761) >>> 0) / 2 ** 28;
      ch.append(t, v);
    }
    ch.flush();
    input.push({
      labels: [
        { name: '__name__', value: 'bench_requests_total' },
        { name: 'instance', value: `i${s}` },
        { name: 'job', value: `job${s % 10}` },
      ],
      chunks: ch.chunks,
    });
  }
  return writeBlock(store, 'bench', input, {
    minTime: from,
    maxTime: from + BLOCK,
    thanos: { labels: { tenant: 'bench' }, downsample: { resolution: 0 }, source: 'promstream' },
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const series = envNumber('BENCH_SERIES', 500);
  const days = envNumber('BENCH_DAYS', 30);
  const runs = envNumber('BENCH_RUNS', 5);
  const interval = envNumber('BENCH_INTERVAL_S', 60) * 1000;
  const dir = mkdtempSync(join(tmpdir(), 'resolution-bench-'));
  const fs = new FsObjectStore(dir);
  const started = performance.now();
  for (let from = T0; from < T0 + days * DAY; from += BLOCK) {
    const raw = await rawBlock(fs, series, from, interval);
    const m5 = (await downsampleBlock(fs, 'bench', raw, RES_5M)).meta;
    await downsampleBlock(fs, 'bench', m5, RES_1H);
  }
  console.log(
    `bucket: ${series} series, ${days} days, a sample every ${interval / 1000} s, raw + 5m + 1h blocks of 2 days, written in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const store = new CountingStore(fs);
  // The raw side of a long range holds more samples at once than the default limit allows.
  const server = await serveBlocks({
    store,
    port: 0,
    defaultTenant: 'bench',
    cacheBytes: 0,
    evalThreads: 1,
    maxSamples: 1e9,
  });
  const end = T0 + days * DAY - H;
  const start = T0 + H;
  const ask = async (query: string, resolution: string) => {
    const params = new URLSearchParams({
      query,
      start: String(start / 1000),
      end: String(end / 1000),
      step: '3600',
      max_source_resolution: resolution,
    });
    const before = store.bytesRead;
    const t = performance.now();
    const res = await fetch(`${server.url}/api/v1/query_range?${params}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: unknown[] } };
    const ms = performance.now() - t;
    if (body.status !== 'success') throw new Error(`${query} at ${resolution}: ${body.error}`);
    return { ms, bytes: store.bytesRead - before, result: body.data.result };
  };
  try {
    const cases: [string, string][] = [
      ['sum by (job) (rate(bench_requests_total[1h]))', 'auto'],
      ['sum by (job) (rate(bench_requests_total[2h]))', '1h'],
    ];
    for (const [query, resolution] of cases) {
      await ask(query, 'raw');
      await ask(query, resolution);
      const raw: { ms: number; bytes: number }[] = [];
      const down: { ms: number; bytes: number }[] = [];
      // Alternating runs, so load on the machine falls on both sides alike.
      for (let i = 0; i < runs; i++) {
        raw.push(await ask(query, 'raw'));
        down.push(await ask(query, resolution));
      }
      const rawMs = median(raw.map((r) => r.ms));
      const downMs = median(down.map((r) => r.ms));
      const rawBytes = median(raw.map((r) => r.bytes));
      const downBytes = median(down.map((r) => r.bytes));
      console.log(`\n${query}, ${days} days at a 1h step`);
      console.log(
        `  raw:                        ${rawMs.toFixed(1)} ms, ${(rawBytes / 1e6).toFixed(2)} MB read`,
      );
      console.log(
        `  max_source_resolution=${resolution.padEnd(5)} ${downMs.toFixed(1)} ms, ${(downBytes / 1e6).toFixed(2)} MB read`,
      );
      console.log(
        `  ratio raw / downsampled:    latency ${(rawMs / downMs).toFixed(1)}x, bytes ${(rawBytes / downBytes).toFixed(1)}x`,
      );
    }
  } finally {
    await server.close();
    if (process.env.BENCH_KEEP === '1') console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
