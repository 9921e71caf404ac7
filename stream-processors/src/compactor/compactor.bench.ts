/**
 * Compaction and downsampling throughput, promstream against the Thanos
 * v0.42.5 library (testkit/thanos-tool) on the same blocks in the same run,
 * in samples per second on one core (the Go side runs with GOMAXPROCS=1;
 * promstream's loop is one JavaScript thread). The floor is 1.0× Thanos. The
 * run fails only on a wrong answer: a downsampled block that differs from
 * Thanos' in any aggregate, or a compaction that loses or adds samples.
 *
 * Data shapes:
 * - `compact-4x2h`: 1000 series scraped every 15s, four adjacent 2h blocks → one 8h block.
 * - `downsample-48h`: 300 series scraped every 15s, one 48h raw block → 5m.
 *
 * Run: npm run bench:compactor (in stream-processors), under flock /tmp/promstream-bench.lock.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type BlockMeta,
  compactBlocks,
  deleteBlock,
  downsampleBlock,
  FsObjectStore,
  SeriesChunker,
  writeBlock,
} from '@promstream/storage';
import { thanosTool } from '@promstream/testkit';

const run = promisify(execFile);
const H = 3600 * 1000;
const T0 = 1_700_006_400_000;
const ROUNDS = 3;

async function writeRaw(store: FsObjectStore, from: number, to: number, series: number): Promise<BlockMeta> {
  const input = [];
  for (let i = 0; i < series; i++) {
    const ch = new SeriesChunker(2 * H);
    let c = 0;
    for (let t = from; t < to; t += 15_000) {
      c += (i % 13) + ((t / 15_000) % 5);
      // A counter for half the series, a gauge for the other half.
      ch.append(t, i % 2 === 0 ? c : Math.sin(t / 1e6 + i) * 50 + i);
    }
    ch.flush();
    input.push({
      labels: [
        { name: '__name__', value: i % 2 === 0 ? 'node_cpu_seconds_total' : 'node_load1' },
        { name: 'instance', value: `host-${String(i).padStart(4, '0')}` },
      ],
      chunks: ch.chunks,
    });
  }
  return writeBlock(store, '', input, {
    minTime: from,
    maxTime: to,
    thanos: { labels: { cluster: 'bench' }, downsample: { resolution: 0 }, source: 'promstream' },
  });
}

interface Rate {
  samples: number;
  seconds: number;
  samplesPerSecond: number;
}

async function thanos(bin: string, args: string[]): Promise<Rate> {
  const { stdout } = await run(bin, args, { env: { ...process.env, GOMAXPROCS: '1' }, maxBuffer: 1 << 26 });
  return JSON.parse(stdout.trim()) as Rate;
}

async function dump(bin: string, dir: string): Promise<string> {
  return (await run(bin, ['dump', dir], { maxBuffer: 1 << 30 })).stdout;
}

function report(name: string, ours: Rate, theirs: Rate): boolean {
  const ratio = ours.samplesPerSecond / theirs.samplesPerSecond;
  const met = ratio >= 1;
  console.log(
    `${name}: promstream ${Math.round(ours.samplesPerSecond).toLocaleString('en')} samples/s, ` +
      `Thanos ${Math.round(theirs.samplesPerSecond).toLocaleString('en')} samples/s (one core each), ` +
      `ratio ${ratio.toFixed(2)}× — floor 1.0× ${met ? 'met' : 'NOT met'}`,
  );
  return met;
}

async function main(): Promise<void> {
  const tool = thanosTool();
  if (!tool.ok) {
    console.log(`compactor bench: ${tool.reason}; nothing to compare against`);
    process.exitCode = 1;
    return;
  }
  const bin = tool.backend.bin;
  const root = await mkdtemp(join(tmpdir(), 'compactor-bench-'));
  const store = new FsObjectStore(root);
  let wrong = false;
  try {
    // compact-4x2h
    const parts: BlockMeta[] = [];
    for (let b = 0; b < 4; b++) parts.push(await writeRaw(store, T0 + b * 2 * H, T0 + (b + 1) * 2 * H, 1000));
    let samples = 0;
    let seconds = 0;
    let out: BlockMeta | undefined;
    for (let r = 0; r < ROUNDS; r++) {
      if (out !== undefined) await deleteBlock(store, out.ulid);
      const start = process.hrtime.bigint();
      const res = await compactBlocks(store, '', parts);
      seconds += Number(process.hrtime.bigint() - start) / 1e9;
      samples += res.samplesIn;
      out = res.meta;
      if (res.meta.stats.numSamples !== res.samplesIn) {
        console.error(`compact-4x2h: wrote ${res.meta.stats.numSamples} samples of ${res.samplesIn}`);
        wrong = true;
      }
    }
    const oursCompact = { samples, seconds, samplesPerSecond: samples / seconds };
    const theirsCompact = await thanos(bin, ['bench-compact', String(ROUNDS), ...parts.map((p) => join(root, p.ulid))]);
    report('compact-4x2h (4 × 2h → 8h, 1000 series, 15s)', oursCompact, theirsCompact);

    // downsample-48h
    const big = await writeRaw(store, T0, T0 + 48 * H, 300);
    samples = 0;
    seconds = 0;
    let ds: BlockMeta | undefined;
    for (let r = 0; r < ROUNDS; r++) {
      if (ds !== undefined) await deleteBlock(store, ds.ulid);
      const start = process.hrtime.bigint();
      const res = await downsampleBlock(store, '', big, 5 * 60 * 1000);
      seconds += Number(process.hrtime.bigint() - start) / 1e9;
      samples += res.samplesIn;
      ds = res.meta;
    }
    const oursDs = { samples, seconds, samplesPerSecond: samples / seconds };
    const theirsDs = await thanos(bin, ['bench-downsample', join(root, big.ulid), String(5 * 60 * 1000), String(ROUNDS)]);
    report('downsample-48h (raw → 5m, 300 series, 15s)', oursDs, theirsDs);
    const id = (await run(bin, ['downsample', join(root, big.ulid), root, String(5 * 60 * 1000)])).stdout.trim();
    if ((await dump(bin, join(root, ds!.ulid))) !== (await dump(bin, join(root, id)))) {
      console.error('downsample-48h: promstream and Thanos downsampled blocks differ');
      wrong = true;
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  console.log('(figures from one run; compare only figures taken in the same run on the same machine)');
  if (wrong) process.exitCode = 1;
}

await main();
