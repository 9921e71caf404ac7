import type { FloatHistogram, Labels } from '@promstream/storage';
import { EngineError, floatPoints, type QueryResult, type VectorSample } from '../engine-types.js';
import { MemoryQuerier } from '../memory-querier.js';
import type { Expr } from '../promql/ast.js';
import { Engine } from '../promql/engine.js';
import { formatExpr } from '../promql/format.js';
import { bucketMap } from '../promql/histogram.js';
import { compareLabels, labelsKey, labelValue } from '../promql/labels.js';
import { parseNumber, unquoteString } from '../promql/literals.js';
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

/** One expected series (or the scalar, with null labels) and its position in the block, from 1. */
interface Expected {
  labels: Labels | null;
  points: SeriesPoint[];
  pos: number;
}

interface EvalCommand {
  line: number;
  variant: string;
  range: { start: number; end: number; step: number } | null;
  at: number;
  expr: string;
  expected: Expected[];
  expects: Expectation[];
  /** The block's value is a bare number: the answer must be a scalar, not a `{}` series. */
  expectScalar: boolean;
  /** `expect range vector from .. to .. step ..`: an instant query answering a range vector, at `end`. */
  rangeVector: { start: number; end: number; step: number } | null;
  /** `expect string "..."`: the answer must be this string. */
  expectedString: string | null;
}

/**
 * A line that Go's strconv reads as a number (ParseInt with base prefixes, or
 * ParseFloat with Inf and NaN): the expectation of a scalar.
 */
const GO_NUMBER = /^[+-]?(?:inf(?:inity)?|nan|0x[0-9a-f_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:e[+-]?\d+)?)$/i;

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

/** The names of the counter reset hints as promqltest writes them. */
const HINT_NAMES = ['unknown', 'reset', 'not_reset', 'gauge'];

function fmtPoint(p: SeriesPoint): string {
  if (!p) return '_';
  if ('f' in p) return String(p.f);
  const hint = HINT_NAMES[p.h.counterResetHint] ?? String(p.h.counterResetHint);
  return `{{schema:${p.h.schema} count:${p.h.count} sum:${p.h.sum} counter_reset_hint:${hint}}}`;
}

/** The command an `eval` line starts (`ev` its match), before the expectations below it. */
function evalHeader(ev: RegExpExecArray, lineNo: number): EvalCommand {
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
    if (variant === '_ordered') throw new Error(`line ${lineNo}: eval_ordered takes instant queries only`);
    const m = /^from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.*)$/.exec(rest);
    if (!m) throw new Error(`line ${lineNo}: bad eval range`);
    range = {
      start: parseTime(m[1] as string),
      end: parseTime(m[2] as string),
      step: parseTime(m[3] as string),
    };
    rest = m[4] as string;
  }
  const cmd: EvalCommand = {
    line: lineNo,
    variant,
    range,
    at,
    expr: rest,
    expected: [],
    expects: [],
    expectScalar: false,
    rangeVector: null,
    expectedString: null,
  };
  if (variant === '_fail') cmd.expects.push({ kind: 'fail' });
  if (variant === '_warn') cmd.expects.push({ kind: 'warn' });
  if (variant === '_info') cmd.expects.push({ kind: 'info' });
  if (variant === '_ordered') cmd.expects.push({ kind: 'ordered' });
  return cmd;
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
      const cmd = evalHeader(ev, i);
      const range = cmd.range;
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
        m = /^expect range vector\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)$/.exec(l);
        if (m) {
          if (range) throw new Error(`line ${i}: expect range vector is for instant queries`);
          cmd.rangeVector = {
            start: parseTime(m[1] as string),
            end: parseTime(m[2] as string),
            step: parseTime(m[3] as string),
          };
          // The instant query runs at the end of the expected range.
          cmd.at = cmd.rangeVector.end;
          continue;
        }
        m = /^expect string\s+(.+)$/.exec(l);
        if (m) {
          cmd.expectedString = unquoteString((m[1] as string).trim());
          continue;
        }
        m = /^expect\s+(fail|warn|info|no_warn|no_info|ordered)\b\s*(?:(msg|regex):\s*(.*))?$/.exec(l);
        if (m) {
          const kind = m[1] as Expectation['kind'];
          cmd.expects = cmd.expects.filter((x) => !(x.kind === kind && x.msg === undefined));
          cmd.expects.push({ kind, msg: m[3]?.trim(), regex: m[2] === 'regex' });
          continue;
        }
        if (/^expect\s/.test(l)) throw new Error(`line ${i}: unknown expectation: ${l}`);
        const pos = cmd.expected.length + 1;
        if (GO_NUMBER.test(l)) {
          // A bare number: the answer must be a scalar. As in Prometheus' runner, it ends the block.
          cmd.expectScalar = true;
          cmd.expected = [
            {
              labels: null,
              points: [{ f: /^[+-]?inf/i.test(l) ? parseNumber(l.replace(/inity$/i, '')) : parseNumber(l) }],
              pos,
            },
          ];
          break;
        }
        const { labels, rest: vals } = parseLabelSet(l);
        const points = parseSeriesValues(vals);
        if (points.length > 1 && !range && !cmd.rangeVector)
          throw new Error(`line ${i}: several values in an instant evaluation need 'expect range vector'`);
        cmd.expectScalar = false;
        cmd.expected.push({ labels, points, pos });
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

/** The annotations of an answer against the `expect warn|info|no_warn|no_info` lines. */
function checkAnnotations(cmd: EvalCommand, res: QueryResult): string | undefined {
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
  return undefined;
}

/**
 * Histogram equality as Prometheus' runner checks it: schema, count, sum, zero
 * bucket, custom bounds and every bucket within the epsilon, and the counter
 * reset hint when the expectation names one.
 */
function histogramMatches(want: FloatHistogram, got: FloatHistogram, hintSet: boolean): boolean {
  if (!histEqual(want, got)) return false;
  return !hintSet || want.counterResetHint === got.counterResetHint;
}

/** A point against its expectation: same kind, value within the epsilon, hint when named. */
function pointMatches(
  want: Exclude<SeriesPoint, undefined>,
  got: { f: number; h?: FloatHistogram },
): boolean {
  if ('h' in want) return got.h !== undefined && histogramMatches(want.h, got.h, want.hintSet === true);
  return got.h === undefined && almostEqual(want.f, got.f);
}

/** A matrix must come sorted by label set, as Prometheus' engine returns it. */
function checkSorted(series: readonly { metric: Labels }[]): string | undefined {
  for (let k = 1; k < series.length; k++) {
    const a = series[k - 1] as { metric: Labels };
    const b = series[k] as { metric: Labels };
    if (compareLabels(a.metric, b.metric) > 0)
      return `matrix not sorted by labels: ${fmtLabels(b.metric)} at ${k} after ${fmtLabels(a.metric)}`;
  }
  return undefined;
}

/**
 * Compares an answer with the expectation as Prometheus' runner does, and
 * more strictly where the answer carries more: a scalar never stands for a
 * `{}` series nor the reverse, an ordered expectation checks every position,
 * a matrix must be sorted by labels and every point's time must be the one
 * expected, vector samples and scalars must carry the evaluation time, and a
 * histogram's counter reset hint must match when the expectation names it.
 */
function checkResult(cmd: EvalCommand, value: QueryResult['value'], evalTime: number): string | undefined {
  const ordered = cmd.expects.some((x) => x.kind === 'ordered');
  switch (value.resultType) {
    case 'string':
      if (cmd.expectedString === null)
        return `got string ${JSON.stringify(value.result.s)}, expected no string`;
      return value.result.s === cmd.expectedString
        ? undefined
        : `expected string ${JSON.stringify(cmd.expectedString)}, got ${JSON.stringify(value.result.s)}`;
    case 'scalar': {
      if (!cmd.expectScalar) return `expected ${cmd.expected.length} series, got scalar ${value.result.f}`;
      const want = cmd.expected[0]?.points[0];
      if (!want || !('f' in want)) return `bad scalar expectation, got scalar ${value.result.f}`;
      if (value.result.t !== evalTime) return `scalar at ${value.result.t}, expected at ${evalTime}`;
      return almostEqual(want.f, value.result.f)
        ? undefined
        : `expected scalar ${want.f}, got ${value.result.f}`;
    }
    case 'vector': {
      if (cmd.expectScalar)
        return `expected a scalar, got a vector: ${value.result.map((s) => `${fmtLabels(s.metric)} ${s.h ? 'histogram' : s.f}`).join(', ')}`;
      const byKey = new Map(cmd.expected.map((e) => [labelsKey(e.labels ?? []), e]));
      const seen = new Set<string>();
      for (let k = 0; k < value.result.length; k++) {
        const got = value.result[k] as VectorSample;
        const key = labelsKey(got.metric);
        const e = byKey.get(key);
        if (!e)
          return `unexpected series ${fmtLabels(got.metric)} ${got.h ? `{{count:${got.h.count} sum:${got.h.sum}}}` : got.f}`;
        if (ordered && e.pos !== k + 1)
          return `series ${fmtLabels(got.metric)} at position ${k + 1}, expected at ${e.pos}`;
        if (got.t !== evalTime)
          return `${fmtLabels(got.metric)}: sample at ${got.t}, expected at ${evalTime}`;
        const want = e.points[0];
        if (!want) return `${fmtLabels(got.metric)}: expected no value, got one`;
        if (!pointMatches(want, got))
          return `${fmtLabels(got.metric)}: expected ${fmtPoint(want)}, got ${got.h ? fmtPoint({ h: got.h }) : got.f}`;
        seen.add(key);
      }
      for (const [key, e] of byKey) if (!seen.has(key)) return `missing series ${fmtLabels(e.labels ?? [])}`;
      return undefined;
    }
    case 'matrix': {
      if (ordered) return 'expected an ordered instant vector, got a matrix';
      if (cmd.expectScalar) return 'expected a scalar, got a matrix';
      const unsorted = checkSorted(value.result);
      if (unsorted) return unsorted;
      // The times the expected points stand at: the range query's steps, or the range vector's.
      const grid = cmd.range ?? cmd.rangeVector;
      const byKey = new Map(cmd.expected.map((e) => [labelsKey(e.labels ?? []), e]));
      const seen = new Set<string>();
      for (const got of value.result) {
        const key = labelsKey(got.metric);
        const e = byKey.get(key);
        if (!e) return `unexpected series ${fmtLabels(got.metric)}`;
        seen.add(key);
        const want: { t: number; p: Exclude<SeriesPoint, undefined> }[] = [];
        for (let k = 0; k < e.points.length; k++) {
          const t = grid ? grid.start + k * grid.step : Number.POSITIVE_INFINITY;
          if (!grid || t > grid.end)
            return `${fmtLabels(got.metric)}: ${e.points.length} points expected, more than the query's range holds`;
          const p = e.points[k];
          if (p) want.push({ t, p });
        }
        const have = [
          ...floatPoints(got).map((x) => ({ t: x.t, v: { f: x.f } as { f: number; h?: FloatHistogram } })),
          ...got.histograms.map((x) => ({ t: x.t, v: { f: 0, h: x.h } })),
        ].sort((a, b) => a.t - b.t);
        const fmtHave = () =>
          have.map((x) => `${x.t / 1000}s:${x.v.h ? fmtPoint({ h: x.v.h }) : x.v.f}`).join(' ');
        if (want.length !== have.length)
          return `${fmtLabels(got.metric)}: expected ${want.length} points, got ${have.length} (${fmtHave()})`;
        for (let k = 0; k < want.length; k++) {
          const w = want[k] as { t: number; p: Exclude<SeriesPoint, undefined> };
          const h = have[k] as { t: number; v: { f: number; h?: FloatHistogram } };
          if (w.t !== h.t)
            return `${fmtLabels(got.metric)}: point ${k} at ${h.t}, expected at ${w.t} (${fmtHave()})`;
          if (!pointMatches(w.p, h.v))
            return `${fmtLabels(got.metric)} at ${h.t / 1000}s: expected ${fmtPoint(w.p)}, got ${h.v.h ? fmtPoint({ h: h.v.h }) : h.v.f}`;
        }
      }
      for (const [key, e] of byKey) if (!seen.has(key)) return `missing series ${fmtLabels(e.labels ?? [])}`;
      return undefined;
    }
  }
}

/**
 * The same query as a range query from a minute before to a minute after the
 * instant must give the same answer at the instant (Prometheus' runner makes
 * this check on every instant case not excluded from it).
 */
async function checkAsRange(
  engine: Engine,
  q: MemoryQuerier,
  cmd: EvalCommand,
  expr: string,
  at: number,
  scalar: boolean,
): Promise<string | undefined> {
  let res: QueryResult;
  try {
    res = await engine.rangeQuery(q, expr, at - 60_000, at + 60_000, 60_000);
  } catch (e) {
    return `as a range query: ${(e as Error).message}`;
  }
  if (res.value.resultType !== 'matrix') return 'as a range query: not a matrix';
  // Range answers are sorted by labels, so an ordered expectation is not checked against one.
  if (cmd.expects.some((x) => x.kind === 'ordered')) return undefined;
  const unsorted = checkSorted(res.value.result);
  if (unsorted) return `as a range query: ${unsorted}`;
  const samples: VectorSample[] = [];
  for (const s of res.value.result) {
    const f = floatPoints(s).find((p) => p.t === at);
    if (f) samples.push({ metric: s.metric, t: f.t, f: f.f });
    const h = s.histograms.find((p) => p.t === at);
    if (h) samples.push({ metric: s.metric, t: h.t, f: 0, h: h.h });
  }
  let value: QueryResult['value'];
  if (scalar) {
    const first = samples[0];
    if (!first) return 'as a range query: no point at the instant';
    value = { resultType: 'scalar', result: { t: at, f: first.f } };
  } else value = { resultType: 'vector', result: samples };
  const msg = checkResult(cmd, value, at);
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

/** Functions whose value depends on the query's range, so a range query differs by definition. */
const QUERY_CONTEXT_FUNCS = /(start|end|range|step)\(\)/;

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
  const message = checkAnnotations(cmd, res) ?? checkResult(cmd, res.value, at);
  if (message !== undefined || cmd.range) return message;
  // Prometheus' runner excludes only the cases that expect a range vector or a string,
  // and queries whose value depends on the query's range.
  if (cmd.rangeVector || cmd.expectedString !== null || QUERY_CONTEXT_FUNCS.test(expr)) return undefined;
  return checkAsRange(engine, q, cmd, expr, at, res.value.resultType === 'scalar');
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
