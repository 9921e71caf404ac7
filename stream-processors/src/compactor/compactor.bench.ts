/**
 * Compaction and downsampling throughput, promstream against the Thanos
 * v0.42.5 library (testkit/thanos-tool) on the same blocks in the same run,
 * in samples per CPU-second: samples over the CPU time the process used
 * (user and system, every thread, garbage collection included), so a busy
 * machine's waiting is not counted. The Go side runs with GOMAXPROCS=1;
 * promstream's loop is one JavaScript thread. The floor is 1.0× Thanos. The
 * run fails only on a wrong answer: a downsampled block that differs from
 * Thanos' in any aggregate, or a compaction that loses or adds samples.
 *
 * Data shapes:
 * - `compact-4x2h`: 1000 series scraped every 15s, four adjacent 2h blocks → one 8h block.
 * - `downsample-48h`: 300 series scraped every 15s, one 48h raw block → 5m.
 *
 * Run: npm run bench:compactor (in stream-processors; `npm run bench` runs it after the data-path
 * bench), under flock /tmp/promstream-bench.lock.
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
const ROUNDS = 5;
// Rounds run first and not counted: the JavaScript JIT warms up, and both sides find the blocks in the page cache.
const WARMUP = 1;

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
  cpuSeconds: number;
  samplesPerSecond: number;
  samplesPerCpuSecond: number;
}

/** Accumulates measured rounds: wall and CPU time of this process. */
class Meter {
  private samples = 0;
  private seconds = 0;
  private cpu = 0;
  private wall0 = 0n;
  private cpu0: NodeJS.CpuUsage = { user: 0, system: 0 };

  start(): void {
    this.wall0 = process.hrtime.bigint();
    this.cpu0 = process.cpuUsage();
  }

  stop(samples: number): void {
    this.seconds += Number(process.hrtime.bigint() - this.wall0) / 1e9;
    const c = process.cpuUsage(this.cpu0);
    this.cpu += (c.user + c.system) / 1e6;
    this.samples += samples;
  }

  rate(): Rate {
    return {
      samples: this.samples,
      seconds: this.seconds,
      cpuSeconds: this.cpu,
      samplesPerSecond: this.samples / this.seconds,
      samplesPerCpuSecond: this.samples / this.cpu,
    };
  }
}

async function thanos(bin: string, args: string[]): Promise<Rate> {
  const { stdout } = await run(bin, args, { env: { ...process.env, GOMAXPROCS: '1' }, maxBuffer: 1 << 26 });
  return JSON.parse(stdout.trim()) as Rate;
}

async function dump(bin: string, dir: string): Promise<string> {
  return (await run(bin, ['dump', dir], { maxBuffer: 1 << 30 })).stdout;
}

function report(name: string, ours: Rate, theirs: Rate): boolean {
  const ratio = ours.samplesPerCpuSecond / theirs.samplesPerCpuSecond;
  const met = ratio >= 1;
  const f = (x: number) => Math.round(x).toLocaleString('en');
  console.log(
    `${name}: promstream ${f(ours.samplesPerCpuSecond)} samples per CPU-second (${f(ours.samplesPerSecond)}/s wall), ` +
      `Thanos ${f(theirs.samplesPerCpuSecond)} (${f(theirs.samplesPerSecond)}/s wall), ` +
      `ratio ${ratio.toFixed(2)}× — floor 1.0× ${met ? 'met' : 'NOT met'}`,
  );
  return met;
}

async function main(): Promise<void> {
  const tool = thanosTool();
  if (!tool.ok) {
    console.log(`compactor bench: ${tool.reason}; nothing to compare against`);
    // A tool named but absent is a broken setup; no tool at all only leaves the comparison out.
    if (process.env.PROMSTREAM_THANOS_TOOL !== undefined) process.exitCode = 1;
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
    let meter = new Meter();
    let out: BlockMeta | undefined;
    for (let r = 0; r < WARMUP + ROUNDS; r++) {
      if (out !== undefined) await deleteBlock(store, out.ulid);
      meter.start();
      const res = await compactBlocks(store, '', parts);
      if (r >= WARMUP) meter.stop(res.samplesIn);
      out = res.meta;
      if (res.meta.stats.numSamples !== res.samplesIn) {
        console.error(`compact-4x2h: wrote ${res.meta.stats.numSamples} samples of ${res.samplesIn}`);
        wrong = true;
      }
    }
    const oursCompact = meter.rate();
    const blocks = parts.map((p) => join(root, p.ulid));
    await thanos(bin, ['bench-compact', String(WARMUP), ...blocks]);
    const theirsCompact = await thanos(bin, ['bench-compact', String(ROUNDS), ...blocks]);
    report('compact-4x2h (4 × 2h → 8h, 1000 series, 15s)', oursCompact, theirsCompact);

    // downsample-48h
    const big = await writeRaw(store, T0, T0 + 48 * H, 300);
    meter = new Meter();
    let ds: BlockMeta | undefined;
    for (let r = 0; r < WARMUP + ROUNDS; r++) {
      if (ds !== undefined) await deleteBlock(store, ds.ulid);
      meter.start();
      const res = await downsampleBlock(store, '', big, 5 * 60 * 1000);
      if (r >= WARMUP) meter.stop(res.samplesIn);
      ds = res.meta;
    }
    const oursDs = meter.rate();
    const bigDir = join(root, big.ulid);
    await thanos(bin, ['bench-downsample', bigDir, String(5 * 60 * 1000), String(WARMUP)]);
    const theirsDs = await thanos(bin, ['bench-downsample', bigDir, String(5 * 60 * 1000), String(ROUNDS)]);
    report('downsample-48h (raw → 5m, 300 series, 15s)', oursDs, theirsDs);
    const id = (
      await run(bin, ['downsample', join(root, big.ulid), root, String(5 * 60 * 1000)])
    ).stdout.trim();
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
