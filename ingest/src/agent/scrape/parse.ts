import { IngestError, IngestErrorCode } from '../../errors.js';
import type { MetricFamily, MetricType } from '../collectors/collector.js';

/** One parsed sample line: the full series name, labels, value and optional timestamp (ms). */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp: number | undefined;
}

function parseValue(s: string): number {
  switch (s) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    default: {
      const v = Number(s);
      if (s === '' || Number.isNaN(v)) throw new Error(`invalid value ${JSON.stringify(s)}`);
      return v;
    }
  }
}

function parseLabels(
  text: string,
  start: number,
  line: string,
): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start;
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const eq = line.indexOf('=', i);
    if (eq < 0 || line[eq + 1] !== '"')
      throw new Error(`label without a quoted value in ${JSON.stringify(text)}`);
    const name = line.slice(i, eq).trim();
    let value = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] === '\\') {
        j++;
        const c = line[j];
        value += c === 'n' ? '\n' : (c ?? '');
      } else value += line[j];
    }
    if (j >= line.length) throw new Error(`unterminated label value in ${JSON.stringify(text)}`);
    labels[name] = value;
    i = j + 1;
  }
}

/** Parses one sample line of the text format 0.0.4 or OpenMetrics (an exemplar after `#` is ignored). */
export function parseSampleLine(line: string): ParsedSample {
  const brace = line.indexOf('{');
  const space = line.search(/[ \t]/);
  let name: string;
  let labels: Record<string, string> = {};
  let rest: string;
  if (brace >= 0 && (space < 0 || brace < space)) {
    name = line.slice(0, brace);
    const parsed = parseLabels(line, brace + 1, line);
    labels = parsed.labels;
    rest = line.slice(parsed.end);
  } else {
    name = line.slice(0, space < 0 ? line.length : space);
    rest = space < 0 ? '' : line.slice(space);
  }
  const hash = rest.indexOf(' # ');
  if (hash >= 0) rest = rest.slice(0, hash);
  const [valueText, tsText] = rest.trim().split(/\s+/);
  const value = parseValue(valueText ?? '');
  let timestamp: number | undefined;
  if (tsText !== undefined) {
    const t = Number(tsText);
    if (!Number.isFinite(t)) throw new Error(`invalid timestamp ${JSON.stringify(tsText)}`);
    // OpenMetrics timestamps are seconds with a fraction; 0.0.4 ones integer milliseconds.
    timestamp = tsText.includes('.') || tsText.includes('e') ? Math.round(t * 1000) : t;
  }
  return { name, labels, value, timestamp };
}

/**
 * Parses an exposition in the text format 0.0.4 or OpenMetrics into families.
 * Samples of histograms and summaries stay under their family with their own
 * names (`_bucket`, `_sum`, `_count`). Throws a malformed_request error naming
 * the line for anything it cannot read.
 */
export function parseExposition(
  text: string,
  openMetrics = false,
): { families: MetricFamily[]; samples: ParsedSample[] } {
  const types = new Map<string, MetricType>();
  const helps = new Map<string, string>();
  const samples: ParsedSample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(line);
      if (m === null) continue;
      if (m[1] === 'TYPE') {
        const t = m[3]!.trim();
        types.set(m[2]!, t === 'counter' || t === 'gauge' ? t : 'untyped');
      } else helps.set(m[2]!, m[3]!);
      continue;
    }
    try {
      const s = parseSampleLine(line);
      // OpenMetrics names counters without their `_total` suffix in TYPE lines.
      if (openMetrics && s.name.endsWith('_created')) continue;
      samples.push(s);
    } catch (cause) {
      throw new IngestError(
        IngestErrorCode.MalformedRequest,
        `exposition line ${n + 1}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
  }
  const families = new Map<string, MetricFamily>();
  for (const s of samples) {
    const base =
      [s.name, s.name.replace(/_(total|bucket|sum|count)$/, '')].find((b) => types.has(b)) ?? s.name;
    let f = families.get(s.name);
    if (f === undefined) {
      f = { name: s.name, type: types.get(base) ?? 'untyped', help: helps.get(base) ?? '', samples: [] };
      families.set(s.name, f);
    }
    f.samples.push({ labels: s.labels, value: s.value });
  }
  return { families: [...families.values()], samples };
}
