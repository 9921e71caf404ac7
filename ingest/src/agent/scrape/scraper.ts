import type { WriteSeries } from '../../remote-write/types.js';
import { sortLabels } from '../exposition.js';
import { parseExposition } from './parse.js';

/** A Prometheus exporter the agent scrapes. */
export interface ScrapeTarget {
  /** Full URL of the metrics endpoint. */
  url: string;
  job: string;
}

// The same preference order Prometheus sends: OpenMetrics first, then text 0.0.4.
const ACCEPT =
  'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.1';

/**
 * Scrapes one target and returns its samples as series stamped with the
 * scrape time (or their own timestamps), the `job` and `instance` labels,
 * and an `up` series, as Prometheus records a scrape.
 */
export async function scrapeTarget(
  target: ScrapeTarget,
  now: number,
  timeoutMs = 10_000,
): Promise<WriteSeries[]> {
  const instance = new URL(target.url).host;
  const base = { job: target.job, instance };
  const up = (v: number): WriteSeries => ({
    labels: sortLabels([
      { name: '__name__', value: 'up' },
      { name: 'instance', value: instance },
      { name: 'job', value: target.job },
    ]),
    timestamps: [now],
    values: [v],
    histograms: [],
    exemplars: 0,
  });
  let text: string;
  let openMetrics: boolean;
  try {
    const res = await fetch(target.url, {
      headers: { accept: ACCEPT },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return [up(0)];
    openMetrics = (res.headers.get('content-type') ?? '').startsWith('application/openmetrics-text');
    text = await res.text();
  } catch {
    return [up(0)];
  }
  let parsed: ReturnType<typeof parseExposition>;
  try {
    parsed = parseExposition(text, openMetrics);
  } catch {
    return [up(0)];
  }
  const out: WriteSeries[] = [];
  for (const s of parsed.samples) {
    const labels = [{ name: '__name__', value: s.name }];
    for (const [name, value] of Object.entries(s.labels)) if (value !== '') labels.push({ name, value });
    // Exposed job/instance labels win over the target's, as with honor_labels.
    for (const [name, value] of Object.entries(base)) if (!(name in s.labels)) labels.push({ name, value });
    out.push({
      labels: sortLabels(labels),
      timestamps: [s.timestamp ?? now],
      values: [s.value],
      histograms: [],
      exemplars: 0,
    });
  }
  out.push(up(1));
  return out;
}
