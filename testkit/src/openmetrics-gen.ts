/**
 * A seeded generator of large OpenMetrics (or Prometheus text) files, written
 * straight to disk in chunks so files of gigabytes cost no memory. Series are
 * grouped as a Prometheus export groups them: all samples of one series, in
 * time order, then the next series, with HELP and TYPE per metric family.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { seededRandom } from './random.js';

/** The shape of a generated file. */
export interface OpenMetricsShape {
  /** Number of series (default 9600). */
  series?: number;
  /** Time span covered in ms (default 6 h). */
  spanMs?: number;
  /** Interval between samples in ms (default 30 s). */
  stepMs?: number;
  /** First sample time in ms (default 1700000000000). */
  startMs?: number;
  seed?: number;
  /** 'openmetrics' (seconds, `# EOF`) or 'prometheus' (ms); default openmetrics. */
  format?: 'openmetrics' | 'prometheus';
}

/** What was written. */
export interface GeneratedFile {
  bytes: number;
  samples: number;
  series: number;
  /** Labels of each series in `name{...}` text form, in file order. */
  seriesText: (i: number) => string;
}

const METRICS_PER_FAMILY = 96;
const MODES = ['idle', 'user', 'system', 'iowait', 'irq', 'softirq', 'steal', 'nice'];

function seriesText(i: number): string {
  const family = Math.floor(i / METRICS_PER_FAMILY);
  const k = i % METRICS_PER_FAMILY;
  return `node_gen_${family}_total{instance="h${String(k).padStart(3, '0')}",job="node",mode="${MODES[k % MODES.length]}"}`;
}

/** Writes a generated file to `path`; the same shape and seed give the same bytes. */
export async function writeOpenMetricsFile(
  path: string,
  shape: OpenMetricsShape = {},
): Promise<GeneratedFile> {
  const series = shape.series ?? 9600;
  const span = shape.spanMs ?? 6 * 3_600_000;
  const step = shape.stepMs ?? 30_000;
  const start = shape.startMs ?? 1_700_000_000_000;
  const om = (shape.format ?? 'openmetrics') === 'openmetrics';
  const random = seededRandom(shape.seed ?? 1);
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let bytes = 0;
  let samples = 0;
  let buf = '';
  const write = async (text: string): Promise<void> => {
    buf += text;
    if (buf.length < 1 << 20) return;
    bytes += Buffer.byteLength(buf);
    if (!out.write(buf)) await once(out, 'drain');
    buf = '';
  };
  for (let i = 0; i < series; i++) {
    if (i % METRICS_PER_FAMILY === 0) {
      const name = `node_gen_${i / METRICS_PER_FAMILY}`;
      await write(`# HELP ${name} Generated counter.\n# TYPE ${name} counter\n`);
    }
    const text = seriesText(i);
    let value = Math.floor(random() * 1e6) / 4;
    for (let t = start; t < start + span; t += step) {
      // Mostly integers and quarters, now and then a long fraction, as real counters look.
      value += random() < 0.9 ? Math.floor(random() * 400) / 4 : random() * 100;
      const ts = om ? String(t / 1000) : String(t);
      await write(`${text} ${value} ${ts}\n`);
      samples++;
    }
  }
  if (om) await write('# EOF\n');
  bytes += Buffer.byteLength(buf);
  out.end(buf);
  await once(out, 'finish');
  return { bytes, samples, series, seriesText };
}
