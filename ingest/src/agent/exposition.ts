import type { Label } from '@promstream/storage';
import type { WriteSeries } from '../remote-write/types.js';
import type { MetricFamily } from './collectors/collector.js';

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

const escapeValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** Writes families in the Prometheus text format 0.0.4. */
export function formatText(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const pairs = Object.entries(s.labels);
      const labels =
        pairs.length === 0 ? '' : `{${pairs.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(',')}}`;
      out.push(`${f.name}${labels} ${formatValue(s.value)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** Sorts a label set by name (Prometheus' order). */
export function sortLabels(labels: Label[]): Label[] {
  return labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Turns collected families into series with one sample each at time `t`,
 * adding the target labels (job, instance) unless a sample has its own.
 */
export function familiesToSeries(
  families: readonly MetricFamily[],
  t: number,
  target: Record<string, string>,
): WriteSeries[] {
  const out: WriteSeries[] = [];
  for (const f of families) {
    for (const s of f.samples) {
      const labels: Label[] = [{ name: '__name__', value: f.name }];
      for (const [name, value] of Object.entries(s.labels)) if (value !== '') labels.push({ name, value });
      for (const [name, value] of Object.entries(target)) {
        if (!(name in s.labels)) labels.push({ name, value });
      }
      out.push({
        labels: sortLabels(labels),
        timestamps: [t],
        values: [s.value],
        histograms: [],
        exemplars: 0,
      });
    }
  }
  return out;
}
