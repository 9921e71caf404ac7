import { readFile } from 'node:fs/promises';
import { parseExpr } from '@promstream/query';
import { parseDuration } from '@promstream/storage';
import { parseDocument } from 'yaml';
import { RulesError } from './errors.js';
import { checkTemplate } from './template.js';

/**
 * Rule files in Prometheus' format (`rulefmt`): groups with a name, an
 * optional `interval`, `query_offset`, `limit` and `labels`, and recording
 * (`record`) or alerting (`alert`, `for`, `keep_firing_for`, `annotations`)
 * rules. They are checked as `promtool check rules` checks them, with its
 * messages: unknown fields and bad durations reject the file as a YAML
 * error; everything else is reported rule by rule.
 */

/** A recording or alerting rule as written. */
export interface RuleSpec {
  kind: 'record' | 'alert';
  /** The recorded metric name or the alert name. */
  name: string;
  expr: string;
  /** `for`, ms (alerting rules). */
  for: number;
  /** `keep_firing_for`, ms (alerting rules). */
  keepFiringFor: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A rule group as written. */
export interface GroupSpec {
  /** The file it came from. */
  file: string;
  name: string;
  /** Evaluation interval, ms; undefined takes the global one. */
  interval?: number;
  /** How far back each evaluation looks, ms; undefined takes the global one. */
  queryOffset?: number;
  /** Most series a rule may produce (0: no limit). */
  limit: number;
  labels: Record<string, string>;
  rules: RuleSpec[];
}

/** The result of reading one file: its groups, and the problems found (empty when valid). */
export interface ParsedRuleFile {
  groups: GroupSpec[];
  errors: string[];
}

const GROUP_FIELDS = new Set(['name', 'interval', 'query_offset', 'limit', 'labels', 'rules']);
const RULE_FIELDS = new Set(['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);

/** Parses and checks a rule file's text. */
export function parseRuleFile(text: string, file: string): ParsedRuleFile {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0] as { message: string; linePos?: { line: number }[] };
    const line = e.linePos?.[0]?.line;
    return {
      groups: [],
      errors: [`yaml: ${line === undefined ? '' : `line ${line}: `}${e.message.split('\n')[0]}`],
    };
  }
  const root = doc.toJS() as unknown;
  if (root === null || root === undefined) return { groups: [], errors: [] };
  try {
    const raw: RawFields = new Map();
    const groups = readGroups(root, file, raw);
    return { groups, errors: checkGroups(groups, raw) };
  } catch (err) {
    if (err instanceof RulesError) return { groups: [], errors: [err.message] };
    throw err;
  }
}

/** Reads, parses and checks rule files; throws a `RULE_FILE` error listing every problem. */
export async function loadRuleFiles(paths: readonly string[]): Promise<GroupSpec[]> {
  const groups: GroupSpec[] = [];
  const problems: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      problems.push(`${path}: ${(err as Error).message}`);
      continue;
    }
    const parsed = parseRuleFile(text, path);
    problems.push(...parsed.errors.map((e) => `${path}: ${e}`));
    groups.push(...parsed.groups);
  }
  if (problems.length > 0) throw new RulesError('RULE_FILE', problems.join('\n'));
  return groups;
}

function yamlError(message: string): RulesError {
  return new RulesError('RULE_FILE', `yaml: unmarshal errors:\n  ${message}`);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readGroups(root: unknown, file: string, raw: RawFields): GroupSpec[] {
  if (!isMap(root)) throw yamlError('cannot unmarshal into rulefmt.RuleGroups');
  for (const k of Object.keys(root))
    if (k !== 'groups') throw yamlError(`field ${k} not found in type rulefmt.RuleGroups`);
  const list = root.groups ?? [];
  if (!Array.isArray(list)) throw yamlError('cannot unmarshal !!map into []rulefmt.RuleGroup');
  return list.map((g) => readGroup(g, file, raw));
}

function readGroup(g: unknown, file: string, raw: RawFields): GroupSpec {
  if (!isMap(g)) throw yamlError('cannot unmarshal into rulefmt.RuleGroup');
  for (const k of Object.keys(g))
    if (!GROUP_FIELDS.has(k)) throw yamlError(`field ${k} not found in type rulefmt.RuleGroup`);
  const rules = g.rules ?? [];
  if (!Array.isArray(rules)) throw yamlError('cannot unmarshal into []rulefmt.Rule');
  const limit = g.limit ?? 0;
  if (typeof limit !== 'number' || !Number.isInteger(limit))
    throw yamlError(
      `cannot unmarshal ${JSON.stringify(limit)} into Go struct field RuleGroup.limit of type int`,
    );
  return {
    file,
    name: scalar(g.name),
    interval: optionalDuration(g.interval),
    queryOffset: optionalDuration(g.query_offset),
    limit,
    labels: stringMap(g.labels),
    rules: rules.map((r) => readRule(r, raw)),
  };
}

function readRule(r: unknown, raw: RawFields): RuleSpec {
  if (!isMap(r)) throw yamlError('cannot unmarshal into rulefmt.Rule');
  for (const k of Object.keys(r))
    if (!RULE_FIELDS.has(k)) throw yamlError(`field ${k} not found in type rulefmt.Rule`);
  const record = scalar(r.record);
  const alert = scalar(r.alert);
  const spec: RuleSpec = {
    kind: alert !== '' ? 'alert' : 'record',
    name: alert !== '' ? alert : record,
    expr: scalar(r.expr),
    for: optionalDuration(r.for) ?? 0,
    keepFiringFor: optionalDuration(r.keep_firing_for) ?? 0,
    labels: stringMap(r.labels),
    annotations: stringMap(r.annotations),
  };
  raw.set(spec, { record, alert, hasFor: r.for !== undefined, hasKeep: r.keep_firing_for !== undefined });
  return spec;
}

/** Per rule, the fields as written (the checks need to know which were set at all). */
type RawFields = Map<RuleSpec, { record: string; alert: string; hasFor: boolean; hasKeep: boolean }>;

function scalar(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object')
    throw yamlError(`cannot unmarshal ${Array.isArray(v) ? '!!seq' : '!!map'} into string`);
  return String(v);
}

function stringMap(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isMap(v)) throw yamlError('cannot unmarshal into map[string]string');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) out[k] = scalar(x);
  return out;
}

function optionalDuration(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const text = scalar(v);
  const ms = parseDuration(text);
  if (ms === undefined) {
    // Prometheus' model.ParseDuration names an unknown unit; any other shape is "not valid".
    const unit = /^(?:\d+[a-zA-Z]+)+$/.test(text)
      ? text.match(/[a-zA-Z]+/g)?.find((u) => !['y', 'w', 'd', 'h', 'm', 's', 'ms'].includes(u))
      : undefined;
    const message =
      unit === undefined
        ? `not a valid duration string: "${text}"`
        : `unknown unit "${unit}" in duration "${text}"`;
    throw new RulesError('RULE_FILE', message);
  }
  return ms;
}

/** The rule-by-rule checks of `rulefmt.RuleGroups.Validate`. */
function checkGroups(groups: readonly GroupSpec[], raw: RawFields): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const g of groups) {
    if (g.name === '') errors.push('Groupname must not be empty');
    else if (seen.has(g.name)) errors.push(`groupname: "${g.name}" is repeated in the same file`);
    seen.add(g.name);
    for (const [k] of Object.entries(g.labels))
      if (k === '' || k === '__name__') errors.push(`invalid label name: ${k}`);
    g.rules.forEach((r, i) => {
      for (const e of checkRule(r, raw)) errors.push(`group "${g.name}", rule ${i + 1}, "${r.name}": ${e}`);
    });
  }
  return errors;
}

function checkRule(r: RuleSpec, fields: RawFields): string[] {
  const raw = fields.get(r) ?? { record: '', alert: '', hasFor: false, hasKeep: false };
  const errors: string[] = [];
  if (raw.record !== '' && raw.alert !== '') errors.push("only one of 'record' and 'alert' must be set");
  if (raw.record === '' && raw.alert === '') errors.push("one of 'record' or 'alert' must be set");
  if (r.expr === '') errors.push("field 'expr' must be set in rule");
  else {
    try {
      parseExpr(r.expr);
    } catch (err) {
      errors.push(`could not parse expression: ${(err as Error).message}`);
    }
  }
  if (raw.record !== '' && raw.alert === '') {
    if (Object.keys(r.annotations).length > 0) errors.push("invalid field 'annotations' in recording rule");
    if (raw.hasFor) errors.push("invalid field 'for' in recording rule");
    if (raw.hasKeep) errors.push("invalid field 'keep_firing_for' in recording rule");
  }
  for (const k of Object.keys(r.labels))
    if (k === '' || k === '__name__') errors.push(`invalid label name: ${k}`);
  for (const k of Object.keys(r.annotations)) if (k === '') errors.push(`invalid annotation name: ${k}`);
  if (raw.alert !== '') {
    for (const [k, v] of Object.entries(r.labels)) {
      const e = templateProblem(r.name, v);
      if (e !== undefined) errors.push(`label "${k}": ${e}`);
    }
    for (const [k, v] of Object.entries(r.annotations)) {
      const e = templateProblem(r.name, v);
      if (e !== undefined) errors.push(`annotation "${k}": ${e}`);
    }
  }
  return errors;
}

function templateProblem(alert: string, text: string): string | undefined {
  try {
    checkTemplate(`__alert_${alert}`, text);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** `promtool check rules`' report of one file: what it prints, and whether the file passed. */
export function checkReport(file: string, parsed: ParsedRuleFile): { ok: boolean; text: string } {
  if (parsed.errors.length === 0) {
    const n = parsed.groups.reduce((s, g) => s + g.rules.length, 0);
    return { ok: true, text: `Checking ${file}\n  SUCCESS: ${n} rules found\n` };
  }
  return {
    ok: false,
    text: `Checking ${file}\n  FAILED:\n${parsed.errors.map((e) => `${file}: ${e}\n`).join('')}`,
  };
}
