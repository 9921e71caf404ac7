import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/**
 * The benchmark's data set, written as an OpenMetrics text file so the same
 * bytes become blocks for both Prometheus (promtool) and promstream. Shapes
 * are named after what they exercise; values come from a seeded generator
 * so every run writes the same file.
 */

/** Sizes of the generated data set. */
export interface BenchDataShape {
  /** Number of `instance` label values; most families scale with it. */
  instances: number;
  /** Span of the data, milliseconds. */
  spanMs: number;
  /** Sample interval, milliseconds. */
  intervalMs: number;
  /**
   * First timestamp, milliseconds. On the minute: Prometheus 3.16 (the
   * reference) and our engine both select ranges left-open, so samples on
   * evaluation-window edges must give the same answers.
   */
  startMs: number;
}

/** About 10,000 series over 6 hours at a 60 s interval (≈ 3.5 million samples). */
export const DEFAULT_SHAPE: BenchDataShape = {
  instances: 100,
  spanMs: 6 * 3_600_000,
  intervalMs: 60_000,
  startMs: Date.UTC(2026, 0, 1),
};

const PATHS = 20;
const CPUS = 16;
const AREAS = 10;
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** One family: a name and its series' label strings, plus how each series' value moves. */
interface Family {
  name: string;
  series: string[];
  /** Value of series i at step n (counters grow, gauges wander). */
  value(i: number, n: number): number;
}

function hash(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x27d4eb2f, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) / 4294967296;
}

function families(shape: BenchDataShape): Family[] {
  const inst = (i: number) => `i${String(i).padStart(3, '0')}`;
  const requests: string[] = [];
  for (let i = 0; i < shape.instances; i++)
    for (let p = 0; p < PATHS; p++)
      for (const code of ['200', '500']) requests.push(`code="${code}",instance="${inst(i)}",path="/p${p}"`);
  const cpu: string[] = [];
  for (let i = 0; i < shape.instances; i++)
    for (let c = 0; c < CPUS; c++)
      for (const mode of ['system', 'user']) cpu.push(`cpu="${c}",instance="${inst(i)}",mode="${mode}"`);
  const buckets: string[] = [];
  const bucketLe: number[] = [];
  for (let i = 0; i < shape.instances; i++) {
    for (let b = 0; b <= BUCKETS.length; b++) {
      const le = b < BUCKETS.length ? String(BUCKETS[b]) : '+Inf';
      buckets.push(`instance="${inst(i)}",le="${le}"`);
      bucketLe.push(b);
    }
  }
  const perInstance = Array.from({ length: shape.instances }, (_, i) => `instance="${inst(i)}"`);
  const memory: string[] = [];
  for (let i = 0; i < shape.instances; i++)
    for (let a = 0; a < AREAS; a++) memory.push(`area="a${a}",instance="${inst(i)}"`);
  const info = perInstance.map((l, i) => `${l},region="r${i % 4}",version="1.${i % 7}"`);
  return [
    {
      name: 'bench_requests_total',
      series: requests,
      value: (i, n) => Math.floor(n * (1 + hash(i, 1) * 20) + hash(i, n) * 5),
    },
    {
      name: 'bench_cpu_seconds_total',
      series: cpu,
      value: (i, n) => Math.round((n * (0.5 + hash(i, 2) * 10) + hash(i, n)) * 1000) / 1000,
    },
    {
      name: 'bench_request_duration_seconds_bucket',
      series: buckets,
      // Cumulative per instance: bucket b holds the share of requests up to its bound.
      value: (i, n) =>
        Math.floor(n * 10 * ((bucketLe[i]! + 1) / (BUCKETS.length + 1)) * (1 + hash(Math.floor(i / 11), 3))),
    },
    {
      name: 'bench_request_duration_seconds_count',
      series: perInstance,
      value: (i, n) => Math.floor(n * 10 * (1 + hash(i, 3))),
    },
    {
      name: 'bench_request_duration_seconds_sum',
      series: perInstance,
      value: (i, n) => Math.round(n * 10 * (1 + hash(i, 3)) * 0.3 * 1000) / 1000,
    },
    {
      name: 'bench_memory_bytes',
      series: memory,
      value: (i, n) => Math.floor(1e6 * (1 + hash(i, 4) * 100) + 1e5 * Math.sin(n / 30 + i)),
    },
    { name: 'bench_instance_info', series: info, value: () => 1 },
  ];
}

/** How many series a shape has. */
export function seriesCount(shape: BenchDataShape): number {
  return families(shape).reduce((n, f) => n + f.series.length, 0);
}

/** Writes the data set as OpenMetrics (gauge families, timestamps in seconds, `# EOF`). */
export async function writeOpenMetrics(
  path: string,
  shape: BenchDataShape,
): Promise<{ series: number; samples: number }> {
  const out = createWriteStream(path);
  const steps = Math.floor(shape.spanMs / shape.intervalMs);
  let samples = 0;
  let series = 0;
  let buf = '';
  const flush = async () => {
    if (!out.write(buf)) await once(out, 'drain');
    buf = '';
  };
  for (const f of families(shape)) {
    buf += `# TYPE ${f.name} gauge\n`;
    series += f.series.length;
    for (let i = 0; i < f.series.length; i++) {
      const prefix = `${f.name}{${f.series[i]}} `;
      for (let n = 0; n < steps; n++) {
        const t = (shape.startMs + n * shape.intervalMs) / 1000;
        buf += `${prefix}${f.value(i, n)} ${t}\n`;
        samples++;
      }
      if (buf.length > 1 << 20) await flush();
    }
  }
  buf += '# EOF\n';
  await flush();
  out.end();
  await once(out, 'finish');
  return { series, samples };
}
