/**
 * Block figures: bytes per sample of our blocks against promtool's blocks
 * (Prometheus 3.16's, testkit's reference, else the promtool on PATH; its
 * version is printed) built from the same OpenMetrics input in the same run,
 * and selecting 1% of a block of many series (time and bytes read). Both
 * sides' blocks are read back and must hold exactly the input's samples, or
 * the bench fails instead of printing a ratio. Run: `npm run bench` in
 * storage. BENCH_SERIES sets the series of the select benchmark (default 1M).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool, prometheusReference, prometheusVersion } from '@promstream/testkit';
import { newMatcher, ValueType } from '../model.js';
import { FsObjectStore } from '../objstore/fs.js';
import { encodeXorChunk } from '../tsz/xor.js';
import { createBlocksFromOpenMetrics } from './backfill.js';
import { formatLabels } from './labels.js';
import { BlockReader } from './reader.js';
import { writeBlock } from './writer.js';

const work = mkdtempSync(join(tmpdir(), 'promstream-bench-'));

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

/** Every sample of every block under `root`, as `labels time value` lines in series then time order. */
async function samplesOf(root: string): Promise<string[]> {
  const store = new FsObjectStore(root);
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    if (!/^[0-7][0-9A-Z]{25}$/.test(name)) continue;
    const reader = await BlockReader.open(store, name);
    for (const series of await reader.select([newMatcher('=~', '__name__', '.+')], -Infinity, Infinity)) {
      const it = series.iterator();
      const key = formatLabels(series.labels);
      while (it.next() === ValueType.Float)
        out.push(`${key} ${it.atT()} ${Object.is(it.at(), -0) ? '-0' : it.at()}`);
      const err = it.err();
      if (err !== undefined) throw err;
    }
  }
  return out.sort();
}

/** The samples of an OpenMetrics text in the same form. */
function samplesOfInput(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const m = /^(\w+)\{series="(\d+)"\} (\S+) (\S+)$/.exec(l);
    if (m === null) continue;
    const labels = [
      { name: '__name__', value: m[1] as string },
      { name: 'series', value: m[2] as string },
    ];
    out.push(`${formatLabels(labels)} ${Math.round(Number(m[4]) * 1000)} ${Number(m[3])}`);
  }
  return out.sort();
}

/** Throws unless `got` holds exactly the expected samples. */
function expectSameSamples(side: string, got: readonly string[], want: readonly string[]): void {
  if (got.length !== want.length)
    throw new Error(`${side} holds ${got.length} samples, the input has ${want.length}`);
  for (let i = 0; i < want.length; i++)
    if (got[i] !== want[i]) throw new Error(`${side} holds "${got[i]}" where the input has "${want[i]}"`);
}

async function bytesPerSample(): Promise<void> {
  // 200 series x 2000 samples (about 8h at 15s) of four shapes.
  let seed = 7;
  const r = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const base = 1_700_000_000;
  const lines: string[] = [];
  const perShape = 50;
  const n = 2000;
  for (const shape of ['constant', 'counter', 'walk', 'noise']) {
    lines.push(`# TYPE bench_${shape} gauge`);
    for (let s = 0; s < perShape; s++) {
      let c = 0;
      let w = 100;
      for (let i = 0; i < n; i++) {
        const t = base + i * 15 + (shape === 'counter' ? Math.floor(r() * 100) / 1000 : 0);
        const v =
          shape === 'constant'
            ? 1
            : shape === 'counter'
              ? (c += Math.floor(r() * 100))
              : shape === 'walk'
                ? (w += Math.round((r() - 0.5) * 100) / 100)
                : r() * 1e6;
        lines.push(`bench_${shape}{series="${s}"} ${v} ${t.toFixed(3)}`);
      }
    }
  }
  lines.push('# EOF', '');
  const input = join(work, 'in.om');
  writeFileSync(input, lines.join('\n'));
  const samples = 4 * perShape * n;
  const ours = join(work, 'ours');
  const t0 = performance.now();
  await createBlocksFromOpenMetrics(lines.join('\n'), new FsObjectStore(ours), '');
  const tOurs = performance.now() - t0;
  const oursBytes = dirBytes(ours);
  const want = samplesOfInput(lines);
  expectSameSamples('our blocks', await samplesOf(ours), want);
  console.log(
    `\nbytes per sample, ${samples.toLocaleString('en')} samples (4 shapes x ${perShape} series x ${n})`,
  );
  console.log(
    `  ours:     ${(oursBytes / samples).toFixed(3)} B/sample (${oursBytes} bytes, built in ${tOurs.toFixed(0)} ms)`,
  );
  const reference = prometheusReference();
  const promtool = reference.ok ? reference.backend.promtool : findTool('promtool');
  if (promtool === undefined) {
    console.log('  promtool: not found (infra/scripts/prometheus.sh install), no reference figure');
    return;
  }
  const version = prometheusVersion(promtool) ?? 'version unknown';
  const theirs = join(work, 'theirs');
  const t1 = performance.now();
  execFileSync(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', input, theirs], { stdio: 'ignore' });
  const tTheirs = performance.now() - t1;
  // promtool also writes a 9-byte tombstones file per block; count only index, chunks and meta.json.
  let theirBytes = 0;
  for (const b of readdirSync(theirs)) {
    if (b.length !== 26) continue;
    theirBytes += dirBytes(join(theirs, b)) - statSync(join(theirs, b, 'tombstones')).size;
  }
  expectSameSamples(`promtool ${version}'s blocks`, await samplesOf(theirs), want);
  console.log('  both sides hold exactly the input samples (read back with our block reader)');
  console.log(
    `  promtool ${version}: ${(theirBytes / samples).toFixed(3)} B/sample (${theirBytes} bytes, built in ${tTheirs.toFixed(0)} ms)`,
  );
  console.log(`  ratio ours/promtool: ${(oursBytes / theirBytes).toFixed(4)} (target <= 1.0)`);
}

async function selectOnePercent(): Promise<void> {
  const seriesCount = Number(process.env.BENCH_SERIES ?? 1_000_000);
  const dir = join(work, 'select');
  const store = new FsObjectStore(dir);
  const chunk = encodeXorChunk(
    Array.from({ length: 8 }, (_, i) => 1_700_000_000_000 + i * 15_000),
    Array.from({ length: 8 }, (_, i) => i),
  );
  const series = function* () {
    for (let i = 0; i < seriesCount; i++) {
      yield {
        labels: [
          { name: '__name__', value: `metric_${i % 50}` },
          { name: 'instance', value: `host-${i}` },
          { name: 'job', value: `job_${i % 10}` },
          { name: 'shard', value: String(i % 100) },
        ],
        chunks: [{ minTime: 1_700_000_000_000, maxTime: 1_700_000_105_000, bytes: chunk }],
      };
    }
  };
  const t0 = performance.now();
  const meta = await writeBlock(store, '', series());
  const tWrite = performance.now() - t0;
  const size = dirBytes(join(dir, meta.ulid));
  const t1 = performance.now();
  const reader = await BlockReader.open(store, meta.ulid);
  const tOpen = performance.now() - t1;
  const openBytes = reader.bytesRead;
  const t2 = performance.now();
  const sel = await reader.select([newMatcher('=', 'shard', '42')], 0, 2e12);
  const tSelect = performance.now() - t2;
  console.log(`\nselect 1% of ${seriesCount.toLocaleString('en')} series (shard="42")`);
  console.log(`  block: ${(size / 1e6).toFixed(1)} MB, written in ${(tWrite / 1000).toFixed(1)} s`);
  console.log(
    `  open:   ${tOpen.toFixed(0)} ms, ${(openBytes / 1e6).toFixed(2)} MB read (meta, TOC, symbols, postings table)`,
  );
  console.log(
    `  select: ${tSelect.toFixed(0)} ms, ${sel.length} series, ${((reader.bytesRead - openBytes) / 1e6).toFixed(2)} MB read (${(((reader.bytesRead - openBytes) / size) * 100).toFixed(2)}% of the block)`,
  );
}

try {
  await bytesPerSample();
  await selectOnePercent();
} finally {
  rmSync(work, { recursive: true, force: true });
}
