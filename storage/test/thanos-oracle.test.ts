import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { announceSkip, prometheusReference, thanosTool } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeriesChunker } from '../src/block/chunker.js';
import { type BlockMeta, parseMeta } from '../src/block/meta.js';
import { BlockReader } from '../src/block/reader.js';
import { writeBlock } from '../src/block/writer.js';
import { blockSeries } from '../src/compact/block-series.js';
import { compactBlocks, downsampleBlock } from '../src/compact/compact.js';
import { RES_1H, RES_5M } from '../src/downsample/downsample.js';
import { type Labels, STALE_NAN } from '../src/model.js';
import { FsObjectStore } from '../src/objstore/fs.js';

// Thanos v0.42.5 is the oracle for downsampling (its own pkg/compact/downsample)
// and Prometheus' compactor, as Thanos' compactor calls it, for compaction.
const run = promisify(execFile);
const tool = thanosTool();
const reference = prometheusReference();
const H = 3600 * 1000;
const T0 = 1_700_006_400_000;
const DAYS = 4;

/** A pseudo-random fraction from a time, so every block holds the same value at the same time. */
function noise(x: number): number {
  return (Math.imul(Math.floor(x / 60_000) | 0, 2654435761) >>> 0) / 2 ** 32;
}

/**
 * Deterministic series, a pure function of time (so overlapping blocks hold
 * true duplicates, as a replay writes them): counters resetting every 31h,
 * gauges, jittered times, stale markers and gaps.
 */
function fixture(from: number, to: number): { labels: Labels; t: number[]; v: number[] }[] {
  const out = [];
  for (let s = 0; s < 6; s++) {
    const t: number[] = [];
    const v: number[] = [];
    for (let x = from; x < to; x += 60_000) {
      const time = s === 2 ? x + Math.floor(noise(x) * 20_000) : x;
      if (s === 3 && time % (9 * H) < 2 * H) continue;
      const k = Math.floor(((time - T0) % (31 * H)) / 60_000);
      let value = s % 2 === 0 ? k * 7 + (k % 7) : Math.sin(time / 3.6e6) * 100 + noise(x);
      if (s === 4 && (time / 60_000) % 97 === 0) value = STALE_NAN;
      t.push(time);
      v.push(value);
    }
    out.push({
      labels: [
        { name: '__name__', value: s % 2 === 0 ? 'requests_total' : 'temperature' },
        { name: 'series', value: String(s) },
      ],
      t,
      v,
    });
  }
  return out;
}

async function rawBlock(store: FsObjectStore, from: number, to: number): Promise<BlockMeta> {
  const series = fixture(from, to).map((s) => {
    const ch = new SeriesChunker(2 * H);
    for (let i = 0; i < s.t.length; i++) ch.append(s.t[i]!, s.v[i]!);
    ch.flush();
    return { labels: s.labels, chunks: ch.chunks };
  });
  return writeBlock(store, '', series, {
    minTime: from,
    maxTime: to,
    thanos: { labels: { cluster: 'oracle' }, downsample: { resolution: 0 }, source: 'promstream' },
  });
}

/** The Thanos tool's dump of a block: one JSON line per series, chunk by chunk, decoded by Thanos. */
async function dump(dir: string): Promise<string[]> {
  const { stdout } = await run(tool.ok ? tool.backend.bin : '', ['dump', dir], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout.trim().split('\n');
}

/** Downsamples with Thanos into `out`; returns the new block's meta. */
async function thanosDownsample(
  store: FsObjectStore,
  root: string,
  ulid: string,
  res: number,
): Promise<BlockMeta> {
  const { stdout } = await run(tool.ok ? tool.backend.bin : '', [
    'downsample',
    join(root, ulid),
    root,
    String(res),
  ]);
  const id = stdout.trim();
  return parseMeta(await store.get(`${id}/meta.json`), { block: id });
}

/** Every chunk of a block as read by promstream's reader: labels, range, encoding, bytes. */
async function chunksOf(store: FsObjectStore, meta: BlockMeta): Promise<string[]> {
  const r = await BlockReader.open(store, meta.ulid, meta);
  const out: string[] = [];
  for await (const s of blockSeries(r)) {
    for (const c of s.chunks) {
      out.push(
        `${s.labels.map((l) => l.value).join(',')} ${c.minTime} ${c.maxTime} ${c.encoding} ${Buffer.from(c.bytes).toString('hex')}`,
      );
    }
  }
  return out;
}

let root: string;
let store: FsObjectStore;
let raw: BlockMeta;

if (!tool.ok) announceSkip('Thanos oracle', tool.reason);

describe.runIf(tool.ok)('downsampling against Thanos v0.42.5', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'thanos-oracle-'));
    store = new FsObjectStore(root);
    raw = await rawBlock(store, T0, T0 + DAYS * 24 * H);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('raw to 5m: the same AggrChunks, byte for byte, and Thanos reads ours as its own', async () => {
    const theirs = await thanosDownsample(store, root, raw.ulid, RES_5M);
    const ours = (await downsampleBlock(store, '', raw, RES_5M)).meta;
    expect(ours.thanos?.downsample.resolution).toBe(RES_5M);
    expect(ours.stats.numSamples).toBe(theirs.stats.numSamples);
    expect(ours.stats.numChunks).toBe(theirs.stats.numChunks);
    const a = await dump(join(root, ours.ulid));
    const b = await dump(join(root, theirs.ulid));
    expect(a.length).toBe(6);
    expect(a).toEqual(b);
    // promstream's reader reads Thanos' block: the same chunks as its own.
    expect(await chunksOf(store, theirs)).toEqual(await chunksOf(store, ours));
  });

  it('5m to 1h: the same from either side, whoever wrote the 5m block', async () => {
    const snap = await readdir(root);
    const metas: BlockMeta[] = [];
    for (const id of snap) metas.push(parseMeta(await store.get(`${id}/meta.json`), { block: id }));
    const fiveMin = metas.filter((m) => m.thanos?.downsample.resolution === RES_5M);
    expect(fiveMin.length).toBe(2);
    const [m1, m2] = fiveMin;
    const ours = (await downsampleBlock(store, '', m1!, RES_1H)).meta;
    const theirsOfOurs = await thanosDownsample(store, root, m1!.ulid, RES_1H);
    const theirsOfTheirs = await thanosDownsample(store, root, m2!.ulid, RES_1H);
    const a = await dump(join(root, ours.ulid));
    expect(a).toEqual(await dump(join(root, theirsOfOurs.ulid)));
    expect(a).toEqual(await dump(join(root, theirsOfTheirs.ulid)));
    expect(await chunksOf(store, theirsOfOurs)).toEqual(await chunksOf(store, ours));
  });
});

describe.runIf(tool.ok)('compaction against Prometheus compactor (through the Thanos tool)', () => {
  let dir: string;
  let s: FsObjectStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'thanos-compact-'));
    s = new FsObjectStore(join(dir, 'bucket'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('merges adjacent and overlapping blocks into the samples Prometheus keeps; promtool reads ours', async () => {
    const a = await rawBlock(s, T0, T0 + 2 * H);
    const b = await rawBlock(s, T0 + 2 * H, T0 + 4 * H);
    // Overlaps b with the same samples again, which both compactors keep once. (Where two
    // sources disagree at one time, Prometheus' pick follows its heap order, which is not
    // specified; promstream keeps the earlier block's sample.)
    const c = await rawBlock(s, T0 + 3 * H, T0 + 5 * H);
    const ours = (await compactBlocks(s, '', [a, b, c])).meta;
    const out = join(dir, 'prom');
    await mkdir(out);
    const bucket = join(dir, 'bucket');
    const { stdout } = await run(tool.ok ? tool.backend.bin : '', [
      'compact',
      out,
      ...[a, b, c].map((m) => join(bucket, m.ulid)),
    ]);
    const theirs = stdout.trim();
    const samples = (lines: string[]) =>
      lines.map((l) => {
        const j = JSON.parse(l) as { labels: unknown; chunks: { samples: unknown[] }[] };
        return { labels: j.labels, samples: j.chunks.flatMap((ch) => ch.samples) };
      });
    const mine = samples(await dump(join(bucket, ours.ulid)));
    expect(mine).toEqual(samples(await dump(join(out, theirs))));
    expect(mine[0]!.samples.length).toBe(5 * 60);
    // promstream's reader reads the block Prometheus' compactor wrote.
    const fs2 = new FsObjectStore(out);
    const pm = parseMeta(await fs2.get(`${theirs}/meta.json`), { block: theirs });
    expect((await chunksOf(fs2, pm)).length).toBeGreaterThan(0);
    if (!reference.ok) {
      announceSkip('promtool tsdb analyze of a compacted block', reference.reason);
      return;
    }
    await mkdir(join(bucket, 'wal'), { recursive: true });
    const analyze = await run(reference.backend.promtool, ['tsdb', 'analyze', bucket, ours.ulid]);
    expect(analyze.stdout).toContain(`Block ID: ${ours.ulid}`);
    expect(analyze.stdout).toMatch(/Series: 6/);
  });
});
