import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  Engine,
  formatDuration,
  MemoryQuerier,
  parseLabelSet,
  parseSeriesValues,
  type VectorSample,
} from '@promstream/query';
import { type Labels, parseDuration } from '@promstream/storage';
import { parse as parseYaml } from 'yaml';
import { AlertingRule } from './alerting-rule.js';
import { RulesError } from './errors.js';
import { RuleGroup } from './group.js';
import { labelsFrom, labelsId } from './labels-util.js';
import { loadRuleFiles } from './rule-file.js';

/**
 * `promstream rules test`: rule unit tests in `promtool test rules` format
 * (rule_files, evaluation_interval, group_eval_order, tests with
 * input_series in the expanding notation, alert_rule_test at eval_time,
 * promql_expr_test), run with our engine and our group evaluation, reported
 * as promtool reports them.
 */

interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
}

interface ExprTest {
  expr: string;
  eval_time: string;
  exp_samples?: { labels: string; value: number | string }[];
}

interface TestGroup {
  name?: string;
  interval?: string;
  input_series?: { series: string; values: string }[];
  external_labels?: Record<string, string>;
  external_url?: string;
  alert_rule_test?: AlertTest[];
  promql_expr_test?: ExprTest[];
}

interface TestFile {
  rule_files?: string[];
  evaluation_interval?: string;
  group_eval_order?: string[];
  tests?: TestGroup[];
}

/** The outcome of one test file: what promtool prints on stdout and stderr, and whether it passed. */
export interface UnitTestReport {
  ok: boolean;
  stdout: string;
  stderr: string;
}

function duration(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const ms = parseDuration(String(text));
  if (ms === undefined)
    throw new RulesError('TEST_FILE', `not a valid duration string for ${what}: "${text}"`);
  return ms;
}

/** Runs one unit-test file. */
export async function runUnitTestFile(file: string): Promise<UnitTestReport> {
  const stdout = `Processing test file: ${file}\n`;
  let errors: string[];
  try {
    const spec = parseYaml(await readFile(file, 'utf8')) as TestFile | null;
    errors = await runTests(spec ?? {}, path.dirname(file));
  } catch (err) {
    errors = [`    ${(err as Error).message}`];
  }
  if (errors.length === 0) return { ok: true, stdout: `${stdout}  SUCCESS\n\n`, stderr: '' };
  // promtool prints one empty line per failure and one more.
  return {
    ok: false,
    stdout: `${stdout}${'\n'.repeat(errors.length + 1)}`,
    stderr: `  FAILED:\n${errors.map((e) => `${e}\n`).join('')}`,
  };
}

async function runTests(spec: TestFile, dir: string): Promise<string[]> {
  const evalInterval = duration(spec.evaluation_interval, 60_000, 'evaluation_interval');
  const files = (spec.rule_files ?? []).map((f) => (path.isAbsolute(f) ? f : path.join(dir, f)));
  const specs = await loadRuleFiles(files);
  const errors: string[] = [];
  for (const tg of spec.tests ?? []) {
    errors.push(...(await runTestGroup(tg, specs, spec.group_eval_order ?? [], evalInterval)));
  }
  return errors;
}

async function runTestGroup(
  tg: TestGroup,
  specs: Awaited<ReturnType<typeof loadRuleFiles>>,
  order: readonly string[],
  evalInterval: number,
): Promise<string[]> {
  const interval = duration(tg.interval, 60_000, 'interval');
  const storage = new MemoryQuerier();
  for (const s of tg.input_series ?? []) {
    const { labels } = parseLabelSet(s.series);
    parseSeriesValues(String(s.values)).forEach((p, i) => {
      if (p === undefined) return;
      if ('f' in p) storage.appendFloat(labels, i * interval, p.f);
      else storage.appendHistogram(labels, i * interval, p.h);
    });
  }
  const engine = new Engine();
  const sorted = [...specs].sort((a, b) => rank(order, a.name) - rank(order, b.name));
  const groups = sorted.map(
    (g) =>
      new RuleGroup(g, {
        engine,
        tenant: '',
        source: { querier: async () => storage },
        sink: {
          write: async (_tenant, samples) => {
            for (const s of samples) storage.appendFloat(s.labels, s.t, s.v);
          },
        },
        defaultInterval: evalInterval,
        externalLabels: tg.external_labels,
        externalURL: tg.external_url,
      }),
  );
  const alertTests = [...(tg.alert_rule_test ?? [])].map((t) => ({
    ...t,
    at: duration(t.eval_time, 0, 'eval_time'),
  }));
  alertTests.sort((a, b) => a.at - b.at);
  const exprTests = (tg.promql_expr_test ?? []).map((t) => ({
    ...t,
    at: duration(t.eval_time, 0, 'eval_time'),
  }));
  const maxT = Math.max(0, ...alertTests.map((t) => t.at), ...exprTests.map((t) => t.at));
  const errors: string[] = [];
  let next = 0;
  for (let ts = 0; ts <= maxT; ts += evalInterval) {
    for (const g of groups) await g.evaluate(ts);
    while (next < alertTests.length && (alertTests[next]?.at as number) < ts + evalInterval) {
      const t = alertTests[next++]!;
      if (t.at < ts) continue;
      const e = checkAlerts(t, groups);
      // promtool names the test group before each failed alert check (not before expression checks).
      if (e !== undefined) errors.push(tg.name ? `    name: ${tg.name},\n${e}` : e);
    }
  }
  for (const t of exprTests) {
    const e = await checkExpr(t, engine, storage);
    if (e !== undefined) errors.push(e);
  }
  return errors;
}

function rank(order: readonly string[], name: string): number {
  const i = order.indexOf(name);
  return i < 0 ? order.length : i;
}

interface ShownAlert {
  labels: Labels;
  annotations: Labels;
}

function checkAlerts(t: AlertTest & { at: number }, groups: readonly RuleGroup[]): string | undefined {
  const got: ShownAlert[] = [];
  for (const g of groups)
    for (const r of g.rules)
      if (r instanceof AlertingRule && r.name === t.alertname)
        for (const a of r.activeAlerts())
          if (a.state === 'firing') got.push({ labels: a.labels, annotations: labelsFrom(a.annotations) });
  const exp: ShownAlert[] = (t.exp_alerts ?? []).map((a) => ({
    labels: labelsFrom({ ...stringify(a.exp_labels), alertname: t.alertname }),
    annotations: labelsFrom(stringify(a.exp_annotations)),
  }));
  const key = (a: ShownAlert) => `${labelsId(a.labels)}\n${labelsId(a.annotations)}`;
  got.sort((a, b) => (key(a) < key(b) ? -1 : 1));
  exp.sort((a, b) => (key(a) < key(b) ? -1 : 1));
  if (got.length === exp.length && got.every((a, i) => key(a) === key(exp[i]!))) return undefined;
  return `    alertname: ${t.alertname}, time: ${formatDuration(t.at)}, \n        exp:${showAlerts(exp)}, \n        got:${showAlerts(got)}`;
}

function stringify(m: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, String(v)]));
}

function showAlerts(list: readonly ShownAlert[]): string {
  if (list.length === 0) return '[]';
  const items = list.map(
    (a, i) =>
      `            ${i}:\n              Labels:${showLabels(a.labels)}\n              Annotations:${showLabels(a.annotations)}\n`,
  );
  return `[\n${items.join('')}            ]`;
}

/** Labels as Prometheus prints them: `{__name__="up", job="a"}`. */
function showLabels(labels: Labels): string {
  return `{${labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`;
}

async function checkExpr(
  t: ExprTest & { at: number },
  engine: Engine,
  storage: MemoryQuerier,
): Promise<string | undefined> {
  const head = `    expr: ${JSON.stringify(t.expr)}, time: ${formatDuration(t.at)}`;
  let got: VectorSample[];
  try {
    const res = await engine.instantQuery(storage, t.expr, t.at);
    if (res.value.resultType === 'vector') got = res.value.result;
    else if (res.value.resultType === 'scalar') got = [{ metric: [], t: t.at, f: res.value.result.f }];
    else throw new Error(`query result is not a vector or scalar`);
  } catch (err) {
    return `${head}, err: ${(err as Error).message}`;
  }
  const exp = (t.exp_samples ?? []).map((s) => ({
    labels: labelsFrom(
      Object.fromEntries(parseLabelSet(String(s.labels)).labels.map((l) => [l.name, l.value])),
    ),
    f: Number(String(s.value).replace(/^([+-]?)inf$/i, '$1Infinity')),
  }));
  const gotList = got.map((s) => ({
    labels: labelsFrom(Object.fromEntries(s.metric.map((l) => [l.name, l.value]))),
    f: s.f,
  }));
  const byLabels = (a: { labels: Labels }, b: { labels: Labels }) =>
    labelsId(a.labels) < labelsId(b.labels) ? -1 : 1;
  exp.sort(byLabels);
  gotList.sort(byLabels);
  const same =
    exp.length === gotList.length &&
    exp.every((e, i) => {
      const g = gotList[i]!;
      return (
        labelsId(e.labels) === labelsId(g.labels) && (e.f === g.f || (Number.isNaN(e.f) && Number.isNaN(g.f)))
      );
    });
  if (same) return undefined;
  return `${head},\n        exp: ${showSamples(exp)}\n        got: ${showSamples(gotList)}`;
}

function showSamples(list: readonly { labels: Labels; f: number }[]): string {
  if (list.length === 0) return 'nil';
  return list.map((s) => `${showLabels(s.labels)} ${goE(s.f)}`).join(', ');
}

/** Go's `strconv.FormatFloat(f, 'E', -1, 64)`. */
function goE(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const [m, e] = v.toExponential().split('e') as [string, string];
  const n = Number(e);
  return `${m}E${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
}
