/**
 * Benchmark of the streaming backfill against promtool on the same file, in
 * the same run: `promstream block create-from-openmetrics` against `promtool
 * tsdb create-blocks-from openmetrics`, samples/s and peak RSS (VmHWM) of
 * each process, with the ratios and the floors (throughput at least
 * promtool's, peak RSS at most promtool's).
 *
 * Data shape "wide-6h" (default): BACKFILL_BENCH_SERIES series (48,000)
 * over 6 h at 30 s, 34.6M samples, about 3 GB of OpenMetrics text. The file
 * is generated in a temporary directory and deleted after. Needs a build
 * (bin/promstream.js runs the built CLI) and promtool 3.16 in
 * PROMETHEUS_BIN_DIR. Run under `flock /tmp/promstream-bench.lock`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prometheusReference, repoRoot, runMeasured, writeOpenMetricsFile } from '@promstream/testkit';

const MB = 1024 * 1024;

async function main(): Promise<void> {
  const reference = prometheusReference();
  if (!reference.ok) {
    console.log(`backfill bench: skipped, ${reference.reason}`);
    process.exitCode = 1;
    return;
  }
  const series = Number(process.env.BACKFILL_BENCH_SERIES ?? 48_000);
  const hours = Number(process.env.BACKFILL_BENCH_HOURS ?? 6);
  const work = await mkdtemp(join(process.env.BACKFILL_BENCH_DIR ?? tmpdir(), 'promstream-backfill-bench-'));
  try {
    const file = join(work, 'bench.om');
    const gen = await writeOpenMetricsFile(file, {
      series,
      spanMs: hours * 3_600_000,
      stepMs: 30_000,
      seed: 42,
    });
    console.log(
      `backfill bench, shape wide-${hours}h: ${series} series, ${gen.samples} samples, ${(gen.bytes / MB).toFixed(0)} MiB of OpenMetrics`,
    );
    const theirs = await runMeasured(reference.backend.promtool, [
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      file,
      join(work, 'theirs'),
    ]);
    if (theirs.code !== 0) throw new Error(`promtool failed: ${theirs.stderr}`);
    await rm(join(work, 'theirs'), { recursive: true, force: true });
    const ours = await runMeasured(process.execPath, [
      join(repoRoot, 'bin', 'promstream.js'),
      'block',
      'create-from-openmetrics',
      '--no-progress',
      '--tmp-dir',
      work,
      file,
      join(work, 'ours'),
    ]);
    if (ours.code !== 0) throw new Error(`promstream failed: ${ours.stderr}`);
    const rate = (s: number): number => gen.samples / s;
    const throughput = rate(ours.seconds) / rate(theirs.seconds);
    const rss = ours.peakRss / theirs.peakRss;
    const row = (name: string, r: { seconds: number; peakRss: number }): string =>
      `  ${name.padEnd(10)} ${r.seconds.toFixed(1).padStart(7)} s  ${Math.round(rate(r.seconds)).toLocaleString('en').padStart(12)} samples/s  peak RSS ${(r.peakRss / MB).toFixed(0).padStart(5)} MiB`;
    console.log(row('promtool', theirs));
    console.log(row('promstream', ours));
    console.log(
      `  throughput ${throughput.toFixed(2)}x promtool (floor 1.00x): ${throughput >= 1 ? 'ok' : 'BELOW'}`,
    );
    console.log(`  peak RSS   ${rss.toFixed(2)}x promtool (ceiling 1.00x): ${rss <= 1 ? 'ok' : 'ABOVE'}`);
    if (throughput < 1 || rss > 1) process.exitCode = 1;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
