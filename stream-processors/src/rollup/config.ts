import { parseExpr } from '@promstream/query';
import { type Labels, type Matcher, parseDuration } from '@promstream/storage';
import { parse as parseYaml } from 'yaml';
import { StreamError } from '../errors.js';

/**
 * Rollup rules in the shape of vmagent's stream aggregation config: a YAML
 * list whose items name the series (`match`), the window (`interval`), the
 * labels kept (`by`) or dropped (`without`) and the aggregates (`outputs`).
 * Validation is strict: an unknown key, a bad duration or output is refused
 * with the item's index and the field, so a typo never silently aggregates
 * the wrong thing.
 */

/** The aggregates an output list may name. */
export const OUTPUT_KINDS = [
  'total',
  'increase',
  'sum_samples',
  'count_samples',
  'count_series',
  'min',
  'max',
  'avg',
  'last',
  'quantiles',
  'histogram_bucket',
] as const;

/** One of OUTPUT_KINDS. */
export type OutputKind = (typeof OUTPUT_KINDS)[number];

/** One output of a rule; `phis` only for `quantiles`. */
export interface RollupOutput {
  kind: OutputKind;
  phis: number[];
}

/** One rollup rule, validated. */
export interface RollupRule {
  /** The position of the rule in the config (its identity in partial records and state). */
  index: number;
  name: string;
  /** Selectors; a series matches the rule when any of them matches it. */
  match: Matcher[][];
  intervalMs: number;
  /** The interval as written (`1m`), as it appears in output names. */
  intervalText: string;
  /** Labels kept (`by`) or dropped (`without`), sorted; `grouping` says which. */
  grouping: 'by' | 'without' | 'none';
  labels: string[];
  outputs: RollupOutput[];
  keepInput: boolean;
  stalenessMs: number;
}

const KEYS = new Set([
  'name',
  'match',
  'interval',
  'by',
  'without',
  'outputs',
  'keep_input',
  'staleness_interval',
]);
/** Keys of vmagent's config this processor does not implement: refused by name rather than ignored. */
const UNSUPPORTED = new Set([
  'dedup_interval',
  'output_relabel_configs',
  'input_relabel_configs',
  'flush_on_shutdown',
  'ignore_old_samples',
  'ignore_first_intervals',
  'ignore_first_sample_interval',
  'drop_input_labels',
  'keep_metric_names',
  'no_align_flush_to_interval',
  'enable_windows',
]);

function bad(where: string, message: string): StreamError {
  return new StreamError('BAD_OPTIONS', `rollup config ${where}: ${message}`);
}

/** Parses and validates a rollup config file's text. */
export function parseRollupConfig(text: string): RollupRule[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new StreamError('BAD_OPTIONS', `rollup config: not YAML: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw bad('', 'expected a YAML list of rules');
  return doc.map((item, index) => parseRule(item, index));
}

function parseRule(item: unknown, index: number): RollupRule {
  const at = `item ${index}`;
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw bad(at, 'expected a map');
  const o = item as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (UNSUPPORTED.has(key)) throw bad(at, `${key} is not supported by promstream rollups`);
    if (!KEYS.has(key)) throw bad(at, `unknown key ${key} (known: ${[...KEYS].join(', ')})`);
  }
  const intervalText = requireString(o.interval, `${at}: interval`);
  const intervalMs = parseDuration(intervalText);
  if (intervalMs === undefined || intervalMs <= 0)
    throw bad(at, `interval: expected a positive duration such as 1m, got ${JSON.stringify(o.interval)}`);
  if (o.by !== undefined && o.without !== undefined) throw bad(at, 'by and without cannot both be set');
  const grouping = o.by !== undefined ? 'by' : o.without !== undefined ? 'without' : 'none';
  const labels = grouping === 'none' ? [] : labelList(o[grouping], `${at}: ${grouping}`);
  const stalenessMs =
    o.staleness_interval === undefined ? 2 * intervalMs : duration(o.staleness_interval, at);
  if (stalenessMs < intervalMs) throw bad(at, 'staleness_interval: must be at least the interval');
  if (o.keep_input !== undefined && typeof o.keep_input !== 'boolean')
    throw bad(at, 'keep_input: expected true or false');
  if (o.name !== undefined && typeof o.name !== 'string') throw bad(at, 'name: expected a string');
  return {
    index,
    name: (o.name as string | undefined) ?? `rule ${index}`,
    match: matchList(o.match, at),
    intervalMs,
    intervalText,
    grouping,
    labels,
    outputs: outputList(o.outputs, at),
    keepInput: (o.keep_input as boolean | undefined) ?? true,
    stalenessMs,
  };
}

function requireString(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw bad(where, 'expected a non-empty string');
  return v;
}

function duration(v: unknown, at: string): number {
  const ms = typeof v === 'string' ? parseDuration(v) : undefined;
  if (ms === undefined || ms <= 0)
    throw bad(at, `staleness_interval: expected a positive duration, got ${JSON.stringify(v)}`);
  return ms;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function labelList(v: unknown, where: string): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0) throw bad(where, 'expected a non-empty list of label names');
  for (const name of list) {
    if (typeof name !== 'string' || !LABEL_NAME.test(name))
      throw bad(where, `${JSON.stringify(name)} is not a label name`);
    if (name === '__name__') throw bad(where, 'the metric name is always kept; do not list __name__');
  }
  return [...new Set(list as string[])].sort();
}

function matchList(v: unknown, at: string): Matcher[][] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0)
    throw bad(at, 'match: expected a series selector or a list of them');
  return list.map((s) => selector(s, at));
}

function selector(text: unknown, at: string): Matcher[] {
  if (typeof text !== 'string')
    throw bad(at, `match: expected a series selector, got ${JSON.stringify(text)}`);
  let expr: ReturnType<typeof parseExpr>;
  try {
    expr = parseExpr(text);
  } catch (err) {
    throw bad(at, `match: ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
  if (expr.kind !== 'vectorSelector' || expr.offset !== null || expr.at !== null)
    throw bad(at, `match: ${JSON.stringify(text)} is not a series selector`);
  return expr.matchers;
}

function outputList(v: unknown, at: string): RollupOutput[] {
  if (!Array.isArray(v) || v.length === 0) throw bad(at, 'outputs: expected a non-empty list');
  const seen = new Set<string>();
  return v.map((text) => {
    if (typeof text !== 'string') throw bad(at, `outputs: expected names, got ${JSON.stringify(text)}`);
    const out = parseOutput(text.trim(), at);
    if (seen.has(out.kind)) throw bad(at, `outputs: ${out.kind} is listed twice`);
    seen.add(out.kind);
    return out;
  });
}

function parseOutput(text: string, at: string): RollupOutput {
  const q = /^quantiles\((.*)\)$/.exec(text);
  if (q !== null) {
    const phis = q[1]!.split(',').map((p) => p.trim());
    if (phis.length === 0 || phis.some((p) => !/^(?:0|1|0?\.\d+|1\.0*)$/.test(p)))
      throw bad(at, `outputs: ${text}: each quantile must be a number from 0 to 1`);
    return { kind: 'quantiles', phis: phis.map(Number) };
  }
  if (text === 'quantiles') throw bad(at, 'outputs: quantiles needs its phis, as in quantiles(0.5, 0.9)');
  if (!(OUTPUT_KINDS as readonly string[]).includes(text))
    throw bad(at, `outputs: unknown output ${JSON.stringify(text)} (known: ${OUTPUT_KINDS.join(', ')})`);
  return { kind: text as OutputKind, phis: [] };
}

/** Whether a series matches a rule (any of its selectors). */
export function ruleMatches(rule: RollupRule, labels: Labels): boolean {
  return rule.match.some((ms) => ms.every((m) => m.matches(labelValue(labels, m.name))));
}

function labelValue(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return '';
}

/**
 * The output metric name as vmagent builds it:
 * `<metric>:<interval>[_by_<labels>|_without_<labels>]_<output>`.
 */
export function outputName(rule: RollupRule, metric: string, kind: OutputKind): string {
  const grouping = rule.grouping === 'none' ? '' : `_${rule.grouping}_${rule.labels.join('_')}`;
  return `${metric}:${rule.intervalText}${grouping}_${kind}`;
}

/** The labels of the output group a series falls in (with its metric name, sorted by name). */
export function groupLabels(rule: RollupRule, labels: Labels): Labels {
  if (rule.grouping === 'by')
    return labels.filter((l) => l.name === '__name__' || rule.labels.includes(l.name));
  if (rule.grouping === 'without') return labels.filter((l) => !rule.labels.includes(l.name));
  return labels;
}

/** Whether any rule drops the raw samples of this series (`keep_input: false`). */
export function dropsInput(rules: readonly RollupRule[], labels: Labels): boolean {
  return rules.some((r) => !r.keepInput && ruleMatches(r, labels));
}
