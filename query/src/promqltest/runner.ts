import type { FloatHistogram, Labels } from '@promstream/storage';
import { EngineError, floatPoints, type QueryResult, type VectorSample } from '../engine-types.js';
import { MemoryQuerier } from '../memory-querier.js';
import type { Expr } from '../promql/ast.js';
import { Engine } from '../promql/engine.js';
import { formatExpr } from '../promql/format.js';
import { bucketMap } from '../promql/histogram.js';
import { labelsKey, labelValue } from '../promql/labels.js';
import { parseExpr } from '../promql/parser.js';
import { parseLabelSet, parseSeriesValues, parseTime, type SeriesPoint } from './series.js';

/**
 * Runs promqltest scripts (`load`, `clear`, `eval ...`) against our engine
 * over an in-memory querier and reports every case as passed or failed.
 */

/** The outcome of one `eval` case. */
export interface CaseResult {
  line: number;
  expr: string;
  ok: boolean;
  message?: string;
}

interface Expectation {
  kind: 'fail' | 'warn' | 'info' | 'no_warn' | 'no_info' | 'ordered';
  msg?: string;
  regex?: boolean;
}

interface EvalCommand {
  line: number;
  variant: string;
  range: { start: number; end: number; step: number } | null;
  at: number;
  expr: string;
  expected: { labels: Labels | null; points: SeriesPoint[] }[];
  expects: Expectation[];
}

const EPSILON = 1e-6;
const MIN_NORMAL = 2.2250738585072014e-308;

/** Float equality as promqltest checks it (relative epsilon, NaN equals NaN). */
export function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < EPSILON * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < EPSILON;
}

function histEqual(a: FloatHistogram, b: FloatHistogram): boolean {
  if (a.schema !== b.schema) return false;
  if (!almostEqual(a.count, b.count) || !almostEqual(a.sum, b.sum) || !almostEqual(a.zeroCount, b.zeroCount))
    return false;
  if (a.schema !== -53 && a.zeroThreshold !== b.zeroThreshold) return false;
  if (a.customValues.join(',') !== b.customValues.join(',')) return false;
  for (const neg of [false, true]) {
    const x = bucketMap(a, neg);
    const y = bucketMap(b, neg);
    for (const k of new Set([...x.keys(), ...y.keys()]))
      if (!almostEqual(x.get(k) ?? 0, y.get(k) ?? 0)) return false;
  }
  return true;
}

function fmtLabels(ls: Labels): string {
  const name = labelValue(ls, '__name__');
  return `${name}{${ls
    .filter((l) => l.name !== '__name__')
    .map((l) => `${l.name}="${l.value}"`)
    .join(', ')}}`;
}

function fmtPoint(p: SeriesPoint): string {
  if (!p) return '_';
  if ('f' in p) return String(p.f);
  return `{{count:${p.h.count} sum:${p.h.sum}}}`;
}

/** Parses a script into commands; data loading happens as the commands run. */
function parseScript(text: string): (
  | {
      kind: 'load';
      line: number;
      interval: number;
      nhcb: boolean;
      series: { labels: Labels; points: SeriesPoint[] }[];
    }
  | { kind: 'clear' }
  | ({ kind: 'eval' } & EvalCommand)
)[] {
  const lines = text.split('\n');
  const cmds: ReturnType<typeof parseScript> = [];
  let i = 0;
  // A command's block runs to the next blank line or command.
  const isIndented = (l: string | undefined) =>
    l !== undefined && l.trim() !== '' && !/^\s*#/.test(l) && !/^(eval|load|clear)\b/.test(l);
  while (i < lines.length) {
    const raw = lines[i] as string;
    const line = raw.trim();
    i++;
    if (line === '' || line.startsWith('#')) continue;
    if (line === 'clear') {
      cmds.push({ kind: 'clear' });
      continue;
    }
    const load = /^load(_with_nhcb)?\s+(\S+)$/.exec(line);
    if (load) {
      const series: { labels: Labels; points: SeriesPoint[] }[] = [];
      const start = i;
      while (i < lines.length && (isIndented(lines[i]) || /^\s*#/.test(lines[i] as string))) {
        const l = (lines[i] as string).trim();
        i++;
        if (l.startsWith('#')) continue;
        const { labels, rest } = parseLabelSet(l);
        series.push({ labels, points: parseSeriesValues(rest) });
      }
      cmds.push({
        kind: 'load',
        line: start,
        interval: parseTime(load[2] as string),
        nhcb: load[1] !== undefined,
        series,
      });
      continue;
    }
    const ev = /^eval(_fail|_warn|_info|_ordered)?\s+(instant|range)\s+(.*)$/.exec(line);
    if (ev) {
      const lineNo = i;
      const variant = ev[1] ?? '';
      let rest = ev[3] as string;
      let range: EvalCommand['range'] = null;
      let at = 0;
      if (ev[2] === 'instant') {
        const m = /^at\s+(\S+)\s+(.*)$/.exec(rest);
        if (!m) throw new Error(`line ${lineNo}: bad eval instant`);
        at = parseTime(m[1] as string);
        rest = m[2] as string;
      } else {
        const m = /^from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.*)$/.exec(rest);
        if (!m) throw new Error(`line ${lineNo}: bad eval range`);
        range = {
          start: parseTime(m[1] as string),
          end: parseTime(m[2] as string),
          step: parseTime(m[3] as string),
        };
        rest = m[4] as string;
      }
      const cmd: EvalCommand = { line: lineNo, variant, range, at, expr: rest, expected: [], expects: [] };
      if (variant === '_fail') cmd.expects.push({ kind: 'fail' });
      if (variant === '_warn') cmd.expects.push({ kind: 'warn' });
      if (variant === '_info') cmd.expects.push({ kind: 'info' });
      if (variant === '_ordered') cmd.expects.push({ kind: 'ordered' });
      while (i < lines.length && (isIndented(lines[i]) || /^\s*#/.test(lines[i] as string))) {
        const l = (lines[i] as string).trim();
        i++;
        if (l.startsWith('#')) continue;
        let m = /^expected_fail_(message|regexp)\s+(.*)$/.exec(l);
        if (m) {
          cmd.expects = cmd.expects.filter((x) => x.kind !== 'fail');
          cmd.expects.push({ kind: 'fail', msg: m[2] as string, regex: m[1] === 'regexp' });
          continue;
        }
        m =
          /^expect\s+(fail|warn|info|no_warn|no_info|ordered|range|string)\b\s*(?:(msg|regex):\s*(.*))?$/.exec(
            l,
          );
        if (m) {
          const kind = m[1] as Expectation['kind'];
          cmd.expects = cmd.expects.filter((x) => !(x.kind === kind && x.msg === undefined));
          cmd.expects.push({ kind, msg: m[3], regex: m[2] === 'regex' });
          continue;
        }
        if (
          /^[-+]?([0-9.]|inf|nan|Inf|NaN)/i.test(l) &&
          !/^[a-zA-Z_:]/.test(l.replace(/^[-+]?(inf|nan)$/i, '0'))
        ) {
          cmd.expected.push({ labels: null, points: parseSeriesValues(l) });
          continue;
        }
        if (/^["'`]/.test(l)) {
          cmd.expected.push({ labels: null, points: [{ f: Number.NaN }], ...{ str: l } });
          continue;
        }
        const { labels, rest: vals } = parseLabelSet(l);
        cmd.expected.push({ labels, points: parseSeriesValues(vals) });
      }
      cmds.push({ kind: 'eval', ...cmd });
      continue;
    }
    throw new Error(`line ${i}: unknown command: ${line}`);
  }
  return cmds;
}

function loadNhcb(
  q: MemoryQuerier,
  series: { labels: Labels; points: SeriesPoint[] }[],
  interval: number,
): void {
  // Classic histograms (`x_bucket{le}`, `x_sum`, `x_count`) become one custom-bucket histogram `x`.
  const groups = new Map<
    string,
    {
      labels: Labels;
      buckets: { le: number; points: SeriesPoint[] }[];
      sum?: SeriesPoint[];
      count?: SeriesPoint[];
    }
  >();
  for (const s of series) {
    const name = labelValue(s.labels, '__name__');
    const m = /^(.*)_(bucket|sum|count)$/.exec(name);
    if (!m) continue;
    const base = m[1] as string;
    const labels = [
      ...s.labels.filter((l) => l.name !== '__name__' && l.name !== 'le'),
      { name: '__name__', value: base },
    ].sort((a, b) => (a.name < b.name ? -1 : 1));
    const key = labelsKey(labels);
    let g = groups.get(key);
    if (!g) {
      g = { labels, buckets: [] };
      groups.set(key, g);
    }
    if (m[2] === 'bucket') {
      const le = Number(labelValue(s.labels, 'le').replace(/^\+?inf$/i, 'Infinity'));
      if (!Number.isNaN(le)) g.buckets.push({ le, points: s.points });
    } else if (m[2] === 'sum') g.sum = s.points;
    else g.count = s.points;
  }
  for (const g of groups.values()) {
    if (g.buckets.length === 0) continue;
    g.buckets.sort((a, b) => a.le - b.le);
    const n = Math.max(...g.buckets.map((b) => b.points.length));
    for (let i = 0; i < n; i++) {
      const cum: number[] = [];
      const bounds: number[] = [];
      let ok = true;
      for (const b of g.buckets) {
        const p = b.points[i];
        if (!p || !('f' in p)) {
          ok = false;
          break;
        }
        // The same bound written twice: the later series wins, as in the NHCB converter.
        if (bounds.length > 0 && bounds[bounds.length - 1] === b.le) {
          cum[cum.length - 1] = p.f;
          continue;
        }
        bounds.push(b.le);
        cum.push(p.f);
      }
      if (!ok) continue;
      const hasInf = bounds[bounds.length - 1] === Number.POSITIVE_INFINITY;
      const counts = cum.map((c, k) => c - (k > 0 ? (cum[k - 1] as number) : 0));
      const sp = g.sum?.[i];
      const cp = g.count?.[i];
      const h: FloatHistogram = {
        counterResetHint: 0,
        schema: -53,
        zeroThreshold: 0,
        zeroCount: 0,
        count: cp && 'f' in cp ? cp.f : counts.reduce((x, y) => x + y, 0),
        sum: sp && 'f' in sp ? sp.f : 0,
        positiveSpans: [{ offset: 0, length: counts.length }],
        negativeSpans: [],
        positiveBuckets: counts,
        negativeBuckets: [],
        customValues: hasInf ? bounds.slice(0, -1) : bounds,
      };
      q.appendHistogram(g.labels, i * interval, h);
    }
  }
}

function checkResult(cmd: EvalCommand, res: QueryResult): string | undefined {
  const matches = (x: Expectation, m: string) =>
    x.msg === undefined || (x.regex ? new RegExp(x.msg).test(m) : m === x.msg);
  for (const [kind, got] of [
    ['warn', res.warnings],
    ['info', res.infos],
  ] as const) {
    const lines = cmd.expects.filter((x) => x.kind === kind);
    // Every expect line needs a matching annotation...
    for (const x of lines)
      if (!got.some((m) => matches(x, m))) return `expected ${kind} ${x.msg ?? ''}, got [${got.join('; ')}]`;
    // ...and once one line names a message, every annotation of that kind must be expected.
    if (lines.some((x) => x.msg !== undefined))
      for (const m of got) if (!lines.some((x) => matches(x, m))) return `unexpected ${kind}: ${m}`;
    if (cmd.expects.some((x) => x.kind === `no_${kind}`) && got.length > 0)
      return `unexpected ${kind}s [${got.join('; ')}]`;
  }
  const v = res.value;
  const ordered = cmd.expects.some((x) => x.kind === 'ordered');
  if (v.resultType === 'scalar') {
    const exp = cmd.expected[0]?.points[0];
    if (cmd.expected.length !== 1 || !exp || !('f' in exp))
      return `got scalar ${v.result.f}, expected ${cmd.expected.length} series`;
    return almostEqual(exp.f, v.result.f) ? undefined : `expected scalar ${exp.f}, got ${v.result.f}`;
  }
  if (v.resultType === 'string') {
    const exp = cmd.expected[0] as unknown as { str?: string } | undefined;
    const want = exp?.str ? JSON.parse(exp.str.replace(/^'|'$/g, '"')) : undefined;
    return want === v.result.s ? undefined : `expected string ${want}, got ${JSON.stringify(v.result.s)}`;
  }
  if (v.resultType === 'vector') {
    if (v.result.length !== cmd.expected.length)
      return `expected ${cmd.expected.length} samples, got ${v.result.length}: ${v.result.map((s) => `${fmtLabels(s.metric)} ${s.h ? `{{count:${s.h.count} sum:${s.h.sum}}}` : s.f}`).join(', ')}`;
    const byKey = new Map(v.result.map((s, k) => [labelsKey(s.metric), k]));
    let pos = 0;
    for (const e of cmd.expected) {
      if (!e.labels) return 'expected a scalar, got a vector';
      const k = byKey.get(labelsKey(e.labels));
      if (k === undefined)
        return `missing series ${fmtLabels(e.labels)}; got ${v.result.map((s) => fmtLabels(s.metric)).join(', ')}`;
      if (ordered && k !== pos) return `series ${fmtLabels(e.labels)} at position ${k}, expected ${pos}`;
      pos++;
      const got = v.result[k];
      const p = e.points[0];
      if (!got || !p) return `bad expectation for ${fmtLabels(e.labels)}`;
      if ('h' in p) {
        if (!got.h || !histEqual(p.h, got.h))
          return `${fmtLabels(e.labels)}: expected histogram ${fmtPoint(p)}, got ${got.h ? JSON.stringify(got.h) : got.f}`;
      } else if (got.h || !almostEqual(p.f, got.f))
        return `${fmtLabels(e.labels)}: expected ${p.f}, got ${got.h ? 'a histogram' : got.f}`;
    }
    return undefined;
  }
  // Matrix: compare every series point by point.
  const start = cmd.range ? cmd.range.start : cmd.at;
  const step = cmd.range ? cmd.range.step : 0;
  if (v.result.length !== cmd.expected.length)
    return `expected ${cmd.expected.length} series, got ${v.result.length}: ${v.result.map((s) => fmtLabels(s.metric)).join(', ')}`;
  const byKey = new Map(v.result.map((s) => [labelsKey(s.metric), s]));
  for (const e of cmd.expected) {
    const labels = e.labels ?? [];
    const got = byKey.get(labelsKey(labels));
    if (!got)
      return `missing series ${fmtLabels(labels)}; got ${v.result.map((s) => fmtLabels(s.metric)).join(', ')}`;
    const want: { t: number; p: SeriesPoint }[] = [];
    e.points.forEach((p, k) => {
      if (p) want.push({ t: start + k * step, p });
    });
    const have = [
      ...floatPoints(got).map((x) => ({ t: x.t, p: { f: x.f } as SeriesPoint })),
      ...got.histograms.map((x) => ({ t: x.t, p: { h: x.h } as SeriesPoint })),
    ].sort((a, b) => a.t - b.t);
    if (want.length !== have.length)
      return `${fmtLabels(labels)}: expected ${want.length} points, got ${have.length} (${have.map((x) => `${x.t / 1000}s:${fmtPoint(x.p)}`).join(' ')})`;
    for (let k = 0; k < want.length; k++) {
      const w = want[k] as { t: number; p: SeriesPoint };
      const h = have[k] as { t: number; p: SeriesPoint };
      if (cmd.range && w.t !== h.t) return `${fmtLabels(labels)}: point ${k} at ${h.t}, expected ${w.t}`;
      const wp = w.p;
      const hp = h.p;
      if (!wp || !hp) continue;
      const same = 'f' in wp ? 'f' in hp && almostEqual(wp.f, hp.f) : 'h' in hp && histEqual(wp.h, hp.h);
      if (!same)
        return `${fmtLabels(labels)} at ${h.t / 1000}s: expected ${fmtPoint(wp)}, got ${fmtPoint(hp)}`;
    }
  }
  return undefined;
}

async function checkAsRange(
  engine: Engine,
  q: MemoryQuerier,
  cmd: EvalCommand,
  scalar: boolean,
): Promise<string | undefined> {
  let res: QueryResult;
  try {
    res = await engine.rangeQuery(q, cmd.expr, cmd.at - 60_000, cmd.at + 60_000, 60_000);
  } catch (e) {
    return `as a range query: ${(e as Error).message}`;
  }
  if (res.value.resultType !== 'matrix') return 'as a range query: not a matrix';
  const samples: VectorSample[] = [];
  for (const s of res.value.result) {
    const f = floatPoints(s).find((p) => p.t === cmd.at);
    if (f) samples.push({ metric: s.metric, t: f.t, f: f.f });
    const h = s.histograms.find((p) => p.t === cmd.at);
    if (h) samples.push({ metric: s.metric, t: h.t, f: 0, h: h.h });
  }
  const value: QueryResult['value'] =
    scalar && samples[0]
      ? { resultType: 'scalar', result: { t: cmd.at, f: samples[0].f } }
      : { resultType: 'vector', result: samples };
  const unordered: EvalCommand = { ...cmd, expects: [] };
  const msg = checkResult(unordered, { value, warnings: [], infos: [] });
  return msg === undefined ? undefined : `as a range query: ${msg}`;
}

/** Functions whose result depends on the evaluation time even when their input does not. */
const AT_UNSAFE = new Set([
  'days_in_month',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'hour',
  'minute',
  'month',
  'year',
  'predict_linear',
  'time',
  'timestamp',
]);

/** The query with `@ t` on every selector and subquery outside subqueries, at other evaluation times. */
function atModifierCases(text: string, t: number): { expr: string; t: number }[] {
  let ast: Expr;
  try {
    ast = parseExpr(text);
  } catch {
    return [];
  }
  let unsafe = false;
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case 'vectorSelector':
        e.at ??= { kind: 'time', ms: t };
        return;
      case 'matrixSelector':
        e.selector.at ??= { kind: 'time', ms: t };
        return;
      case 'subquery':
        // Selectors inside keep their own times: the subquery's `@` fixes them.
        e.at ??= { kind: 'time', ms: t };
        return;
      case 'call':
        if (AT_UNSAFE.has(e.func)) unsafe = true;
        for (const a of e.args) visit(a);
        return;
      case 'aggregate':
        visit(e.expr);
        if (e.param) visit(e.param);
        return;
      case 'binary':
        visit(e.lhs);
        visit(e.rhs);
        return;
      case 'unary':
      case 'paren':
        visit(e.expr);
        return;
      default:
        return;
    }
  };
  visit(ast);
  if (unsafe) return [];
  const expr = formatExpr(ast);
  const times = t === 0 ? [-1000, 0, 1000] : [-10 * t, 0, Math.trunc(t / 5), t, 10 * t];
  return times.map((x) => ({ expr, t: x }));
}

/** Runs one evaluation of a case and returns why it failed, if it did. */
async function runCase(
  engine: Engine,
  q: MemoryQuerier,
  cmd: EvalCommand,
  expr: string,
  at: number,
): Promise<string | undefined> {
  const wantFail = cmd.expects.find((x) => x.kind === 'fail');
  let res: QueryResult | undefined;
  try {
    res = cmd.range
      ? await engine.rangeQuery(q, expr, cmd.range.start, cmd.range.end, cmd.range.step)
      : await engine.instantQuery(q, expr, at);
  } catch (error) {
    const msg = error instanceof Error ? error.message : String(error);
    if (!(error instanceof EngineError)) return `non-engine error: ${msg}`;
    if (!wantFail) return `unexpected error: ${msg}`;
    if (wantFail.msg !== undefined) {
      const ok = wantFail.regex ? new RegExp(wantFail.msg).test(msg) : msg === wantFail.msg;
      if (!ok) return `expected error "${wantFail.msg}", got "${msg}"`;
    }
    return undefined;
  }
  if (wantFail) return 'expected an error, got none';
  const message = checkResult(cmd, res);
  if (
    message !== undefined ||
    cmd.range ||
    res.value.resultType === 'matrix' ||
    res.value.resultType === 'string'
  )
    return message;
  // The same query as a range query around the instant must give the same values there
  // (not for range(), which differs by definition).
  if (expr.includes('range()')) return undefined;
  return checkAsRange(engine, q, { ...cmd, expr, at }, res.value.resultType === 'scalar');
}

/** Runs one script's text and returns the result of every eval case. */
export async function runScript(text: string, engine = new Engine()): Promise<CaseResult[]> {
  const q = new MemoryQuerier();
  const results: CaseResult[] = [];
  for (const cmd of parseScript(text)) {
    if (cmd.kind === 'clear') {
      q.clear();
      continue;
    }
    if (cmd.kind === 'load') {
      for (const s of cmd.series) {
        cmd.series.indexOf(s);
        s.points.forEach((p, k) => {
          if (!p) return;
          const t = k * cmd.interval;
          if ('f' in p) q.appendFloat(s.labels, t, p.f);
          else q.appendHistogram(s.labels, t, p.h);
        });
      }
      if (cmd.nhcb) loadNhcb(q, cmd.series, cmd.interval);
      continue;
    }
    let message: string | undefined;
    if (cmd.range) message = await runCase(engine, q, cmd, cmd.expr, cmd.at);
    else {
      // As Prometheus' runner does: the query as written, then (unless it depends on the
      // evaluation time) with every outer selector pinned by `@` to the instant and
      // evaluated at other times, which must not change the answer.
      const cases = [{ expr: cmd.expr, t: cmd.at }, ...atModifierCases(cmd.expr, cmd.at)];
      for (const c of cases) {
        message = await runCase(engine, q, cmd, c.expr, c.t);
        if (message !== undefined) {
          if (c.expr !== cmd.expr || c.t !== cmd.at) message = `as ${c.expr} at ${c.t / 1000}s: ${message}`;
          break;
        }
      }
    }
    results.push({ line: cmd.line, expr: cmd.expr, ok: message === undefined, message });
  }
  return results;
}
