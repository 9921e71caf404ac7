/**
 * The watch configuration of anomaly detection (README, "Configuration"):
 * named PromQL queries, a model per query, the evaluation interval, the
 * training window and the sensitivity. `anomalyConfig` validates a parsed
 * YAML document and lists every problem in one `BAD_OPTIONS` error.
 */
import { parseDurationSetting } from '@promstream/storage';
import { StreamError } from '../errors.js';
import { DAY_MS, MODEL_KINDS, type ModelKind, type ModelOptions } from './model.js';

/** One watched query. */
export interface WatchedQuery {
  /** The query's name, written as `for="<name>"` on every output. */
  name: string;
  /** The PromQL expression (an instant vector). */
  expr: string;
  model: ModelKind;
  /** Scores above this are severe (an event besides the record); default 3. */
  severeScore: number;
}

/** A validated watch configuration. */
export interface AnomalyConfig {
  queries: WatchedQuery[];
  /** Model options shared by every query (interval, training window as warm-up, sensitivity, gap). */
  model: ModelOptions;
  /** Normal points in a row that close an episode. */
  closeAfter: number;
}

/**
 * Queries watched when a configuration names none: node-exporter's usual
 * health signals, each with the model that suits its shape.
 */
export const NODE_EXPORTER_QUERIES: Readonly<Record<string, { expr: string; model: ModelKind }>> = {
  cpu_busy: {
    expr: 'sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))',
    model: 'combined',
  },
  memory_available_ratio: {
    expr: 'node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes',
    model: 'combined',
  },
  network_receive_bytes: {
    expr: 'sum by (instance) (rate(node_network_receive_bytes_total{device!="lo"}[5m]))',
    model: 'combined',
  },
  filesystem_free_bytes: {
    expr: 'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"}',
    model: 'trend',
  },
};

const KEYS = ['interval', 'training_window', 'sensitivity', 'max_gap', 'close_after', 'queries'];
const QUERY_KEYS = ['expr', 'model', 'severe_score'];
const NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Validates a parsed YAML document (`undefined` or `{}` gives every default). */
export function anomalyConfig(doc: unknown): AnomalyConfig {
  const problems: string[] = [];
  const d = doc ?? {};
  if (typeof d !== 'object' || Array.isArray(d)) throw bad(['the document must be a mapping']);
  const o = d as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) problems.push(`unknown key ${JSON.stringify(k)}`);
  const interval = duration(o.interval, 'interval', 60_000, problems);
  const training = duration(o.training_window, 'training_window', 7 * DAY_MS, problems);
  const maxGap = duration(o.max_gap, 'max_gap', 30 * interval, problems);
  if (interval <= 0) problems.push('interval: must be above 0');
  const sensitivity = number(o.sensitivity, 'sensitivity', 1, problems);
  if (!(sensitivity > 0)) problems.push('sensitivity: must be above 0');
  const closeAfter = number(o.close_after, 'close_after', 5, problems);
  if (!Number.isInteger(closeAfter) || closeAfter < 1)
    problems.push('close_after: must be a whole number of points, 1 or more');
  const queries = queryList(o.queries, problems);
  if (problems.length > 0) throw bad(problems);
  return {
    queries,
    model: { intervalMs: interval, warmupMs: training, sensitivity, maxGapMs: maxGap },
    closeAfter,
  };
}

function queryList(q: unknown, problems: string[]): WatchedQuery[] {
  const given = q ?? NODE_EXPORTER_QUERIES;
  if (typeof given !== 'object' || Array.isArray(given)) {
    problems.push('queries: must be a mapping of name to a PromQL expression or {expr, model, severe_score}');
    return [];
  }
  const out: WatchedQuery[] = [];
  for (const [name, v] of Object.entries(given as Record<string, unknown>)) {
    const at = `queries.${name}`;
    if (!NAME_RE.test(name))
      problems.push(`${at}: a name is letters, digits and _, not starting with a digit`);
    const spec = typeof v === 'string' ? { expr: v } : v;
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
      problems.push(`${at}: must be a PromQL expression or {expr, model, severe_score}`);
      continue;
    }
    const s = spec as Record<string, unknown>;
    for (const k of Object.keys(s))
      if (!QUERY_KEYS.includes(k)) problems.push(`${at}: unknown key ${JSON.stringify(k)}`);
    if (typeof s.expr !== 'string' || s.expr.trim() === '')
      problems.push(`${at}.expr: a PromQL expression is required`);
    const model = s.model ?? 'combined';
    if (!MODEL_KINDS.includes(model as ModelKind)) {
      problems.push(`${at}.model: ${JSON.stringify(model)} is not one of ${MODEL_KINDS.join(', ')}`);
    }
    const severeScore = number(s.severe_score, `${at}.severe_score`, 3, problems);
    out.push({ name, expr: String(s.expr ?? ''), model: model as ModelKind, severeScore });
  }
  if (out.length === 0 && problems.length === 0) problems.push('queries: at least one query is needed');
  return out;
}

function duration(v: unknown, key: string, dflt: number, problems: string[]): number {
  if (v === undefined || v === null) return dflt;
  const ms = parseDurationSetting(String(v));
  if (ms === undefined) {
    problems.push(`${key}: ${JSON.stringify(v)} is not a duration (1m, 7d, 1h30m)`);
    return dflt;
  }
  return ms;
}

function number(v: unknown, key: string, dflt: number, problems: string[]): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    problems.push(`${key}: ${JSON.stringify(v)} is not a number`);
    return dflt;
  }
  return v;
}

function bad(problems: string[]): StreamError {
  return new StreamError('BAD_OPTIONS', `read anomaly configuration: ${problems.join('; ')}`);
}
