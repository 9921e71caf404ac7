import { homedir } from 'node:os';
import path from 'node:path';
import type { Label } from '@promstream/storage';
import type { DecodedBatch } from '../block-builder/seams.js';
import { PartitionAggregator } from './aggregator.js';
import { Combiner } from './combiner.js';
import { parseRollupConfig } from './config.js';
import { vmagentCpuSeconds } from './vmagent-reference.bench.js';

/**
 * Streaming aggregation throughput: input samples per second per core of
 * both rollup stages (aggregate, then combine), on decoded SampleBatch
 * records as the decoder hands them over. Decoding is the block builder's
 * shared cost and not counted here. Data shape "remote-write scrape":
 * 60,000 series (HTTP counters, histogram buckets and node gauges of 200
 * instances), scraped every 15 s, sent as records of 500 one-sample series.
 * Rules: the cardinality cuts users ask for (drop `instance`, keep a few
 * labels). The floor is 1,000,000 samples/s per core (issue 14).
 *
 *   npm run bench:rollups            (run under flock /tmp/promstream-bench.lock)
 */

const RULES = `
- match: 'http_requests_total'
  interval: 1m
  without: [instance]
  outputs: [total, increase]
- match: 'http_request_duration_seconds_bucket'
  interval: 1m
  without: [instance]
  outputs: [total]
- match: '{__name__=~"node_memory_.*"}'
  interval: 1m
  by: [job]
  outputs: [avg, max, min, count_series]
`;

const INSTANCES = 200;
const SCRAPE_MS = 15_000;
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 24);
const WARM_SCRAPES = 8;
const PER_RECORD = 500;
const FLOOR = 1_000_000;

function seriesSet(): Label[][] {
  const out: Label[][] = [];
  const l = (name: string, value: string): Label => ({ name, value });
  for (let i = 0; i < INSTANCES; i++) {
    const inst = l('instance', `10.0.${i >> 8}.${i & 255}:9100`);
    const job = l('job', `svc-${i % 10}`);
    for (const path of ['/', '/api', '/login', '/search', '/static'])
      for (const code of ['200', '404', '500'])
        out.push([l('__name__', 'http_requests_total'), l('code', code), inst, job, l('path', path)]);
    for (const le of ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'])
      for (const path of ['/', '/api', '/login', '/search', '/static'])
        out.push([
          l('__name__', 'http_request_duration_seconds_bucket'),
          inst,
          job,
          l('le', le),
          l('path', path),
        ]);
    for (let m = 0; m < 180; m++) out.push([l('__name__', `node_memory_m${m}_bytes`), inst, job]);
    for (let m = 0; m < 55; m++) out.push([l('__name__', `node_other_m${m}`), inst, job]);
  }
  return out;
}

/** Every record of one partition, built before the clock starts. */
function records(series: Label[][]): DecodedBatch[] {
  const out: DecodedBatch[] = [];
  const t0 = 1_700_000_000_000;
  for (let s = 0; s < WARM_SCRAPES + SCRAPES; s++) {
    const t = t0 + s * SCRAPE_MS;
    for (let i = 0; i < series.length; i += PER_RECORD) {
      const chunk = series.slice(i, i + PER_RECORD).map((labels, k) => ({
        labels,
        t: [t + (k % 1000)],
        v: [s * 10 + ((i + k) % 7)],
      }));
      out.push({ tenant: 'bench', series: chunk, skippedHistograms: 0 });
    }
  }
  return out;
}

/** Feeds records; returns the CPU seconds taken and the aggregate samples written. */
function feed(agg: PartitionAggregator, combiners: Combiner[], input: DecodedBatch[]): [number, number] {
  let outputs = 0;
  const cpu0 = process.cpuUsage();
  for (const b of input)
    for (const r of agg.add(b))
      for (const o of combiners[r.partition]!.add(r.value)) outputs += o.samples.length;
  const cpu = process.cpuUsage(cpu0);
  return [(cpu.user + cpu.system) / 1e6, outputs];
}

async function run(): Promise<void> {
  const rules = parseRollupConfig(RULES);
  const series = seriesSet();
  const input = records(series);
  const perScrape = Math.ceil(series.length / PER_RECORD);
  // The first scrapes create every series' state (matching, grouping) and warm the JIT; the
  // rest is the steady state a long-running processor spends its time in, and is what counts.
  const warm = input.slice(0, WARM_SCRAPES * perScrape);
  const steady = input.slice(WARM_SCRAPES * perScrape);
  const samples = steady.reduce((n, b) => n + b.series.length, 0);
  const agg = new PartitionAggregator({ rules, source: 0, lateMs: 30_000, partialsPartitions: 4 });
  const combiners = Array.from({ length: 4 }, () => new Combiner(rules, 1));
  const [warmSeconds] = feed(agg, combiners, warm);
  const [cpuSeconds, outputs] = feed(agg, combiners, steady);
  const perCore = samples / cpuSeconds;
  console.log(`rollups bench (remote-write scrape): ${series.length} series, ${SCRAPES} scrapes measured`);
  console.log(
    `  warm-up (${WARM_SCRAPES} scrapes, every series new at first): cpu ${(warmSeconds * 1000).toFixed(0)} ms`,
  );
  console.log(`  steady: ${samples} samples in, ${outputs} aggregate samples out, ${agg.counts.late} late`);
  console.log(`  cpu ${(cpuSeconds * 1000).toFixed(0)} ms`);
  console.log(
    `  input samples/s per core: ${Math.round(perCore).toLocaleString('en')} (floor ${FLOOR.toLocaleString('en')})`,
  );
  if (perCore < FLOOR) process.exitCode = 1;
  // The reference: vmagent built with `go install .../app/vmagent@v1.151.0` into the cache.
  const cache = process.env.PROMSTREAM_CACHE ?? path.join(homedir(), '.cache', 'promstream');
  const bin = process.env.VMAGENT_BIN ?? path.join(cache, 'vmagent-1.151.0', 'vmagent');
  const ref = await vmagentCpuSeconds(bin, RULES, warm, steady);
  if (!ref.ok) {
    console.log(`  reference: vmagent not run (${ref.reason})`);
    return;
  }
  const vmPerCore = samples / ref.seconds;
  console.log(
    `  vmagent v1.151.0 stream aggregation (remote-write decoding included): cpu ${(ref.seconds * 1000).toFixed(0)} ms,`,
  );
  console.log(
    `    ${Math.round(vmPerCore).toLocaleString('en')} samples/s per core; promstream/vmagent ratio ${(perCore / vmPerCore).toFixed(2)}`,
  );
}

await run();
