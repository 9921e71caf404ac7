import {
  type FloatHistogram,
  isStaleNaN,
  type Labels,
  type Matcher,
  type SampleIterator,
  ValueType,
} from '@promstream/storage';
import {
  EngineError,
  type EngineOptions,
  type HPoint,
  type MatrixSeries,
  type QueryEngine,
  type QueryResult,
  type QueryValue,
  type VectorSample,
} from '../engine-types.js';
import type { Querier, SelectHints, Series } from '../querier.js';

import { evalAggregate } from './aggregate.js';
import type { AtModifier, DurationExpr, Expr, MatrixSelector, SubqueryExpr, VectorSelector } from './ast.js';
import { typeOf } from './ast.js';
import { evalBinary } from './binary.js';
import type { EvalContext } from './context.js';
import { evalCall } from './functions.js';
import { copyH, scaleH } from './histogram.js';
import { compareLabels, labelsKey, METRIC_NAME } from './labels.js';
import { parseExpr } from './parser.js';
import { dropStale, dropStaleInPlace, readSamples, type SampleBuffer } from './sample-buffer.js';
import { selectorFuncs } from './select-hints.js';
import {
  duplicateLabelset,
  lastAtOrBefore,
  type MatrixValue,
  type RangeSeries,
  type StepSeries,
  type Value,
  type VectorValue,
} from './values.js';

/**
 * The PromQL engine: parses a query, evaluates it over all requested times
 * at once (each node yields typed arrays with one slot per time), and turns
 * the root value into the API's result shape.
 */

const DEFAULT_LOOKBACK = 5 * 60 * 1000;
const DEFAULT_MAX_SAMPLES = 50_000_000;
const DEFAULT_TIMEOUT = 2 * 60 * 1000;
/** Subquery step when none is given and the query has no step (instant queries). */
const DEFAULT_SUBQUERY_STEP = 60 * 1000;

/** State of one query's evaluation. */
class Evaluator implements EvalContext {
  samples = 0;
  readonly warnings = new Set<string>();
  readonly infos = new Set<string>();
  private readonly deadline: number;

  constructor(
    readonly querier: Querier,
    readonly start: number,
    readonly end: number,
    readonly interval: number,
    readonly lookback: number,
    private readonly maxSamples: number,
    timeout: number,
    private readonly now: () => number,
    readonly signal: AbortSignal | undefined,
    private readonly funcs: ReadonlyMap<VectorSelector, string>,
  ) {
    this.deadline = now() + timeout;
  }

  /** A select's hints: its range, and the function around the selector (see select-hints.ts). */
  private hints(vs: VectorSelector, mint: number, maxt: number, range: number): SelectHints {
    return { mint, maxt, signal: this.signal, func: this.funcs.get(vs) ?? '', range };
  }

  /** Throws when the query was cancelled or ran out of time. */
  check(): void {
    if (this.signal?.aborted) throw new EngineError('canceled', 'query was canceled');
    if (this.now() > this.deadline)
      throw new EngineError('timeout', 'query timed out in expression evaluation');
  }

  addSamples(n: number): void {
    this.samples += n;
    if (this.samples > this.maxSamples)
      throw new EngineError(
        'too_many_samples',
        'query processing would load too many samples into memory in query execution',
      );
  }

  duration(d: DurationExpr): number {
    switch (d.kind) {
      case 'dnum':
        return d.ms;
      case 'dstep':
        return this.interval;
      case 'drange':
        return this.end - this.start;
      case 'dparen':
        return this.duration(d.expr);
      case 'dunary':
        return d.op === '-' ? -this.duration(d.expr) : this.duration(d.expr);
      case 'dminmax': {
        const a = this.duration(d.lhs);
        const b = this.duration(d.rhs);
        return d.op === 'min_of' ? Math.min(a, b) : Math.max(a, b);
      }
      case 'dbin': {
        const a = this.duration(d.lhs);
        const b = this.duration(d.rhs);
        switch (d.op) {
          case '+':
            return a + b;
          case '-':
            return a - b;
          case '*':
            return (a * b) / 1000;
          case '/':
            if (b === 0) throw new EngineError('execution', 'division by zero in duration expression');
            return (a / b) * 1000;
          case '%':
            return a % b;
          case '^':
            return (a / 1000) ** (b / 1000) * 1000;
        }
      }
    }
  }

  /** The reference times of a selector or subquery: `@` and `offset` applied. */
  refTimes(ts: Float64Array, at: AtModifier | null, offset: DurationExpr | null): Float64Array {
    const off = offset ? this.duration(offset) : 0;
    const out = new Float64Array(ts.length);
    for (let i = 0; i < ts.length; i++) {
      const base =
        at === null
          ? (ts[i] as number)
          : at.kind === 'time'
            ? at.ms
            : at.kind === 'start'
              ? this.start
              : this.end;
      out[i] = base - off;
    }
    return out;
  }

  async eval(e: Expr, ts: Float64Array): Promise<Value> {
    this.check();
    switch (e.kind) {
      case 'number':
        return { type: 'scalar', v: new Float64Array(ts.length).fill(e.value) };
      case 'string':
        return { type: 'string', s: e.value };
      case 'paren':
        return this.eval(e.expr, ts);
      case 'unary': {
        const v = await this.eval(e.expr, ts);
        if (e.op === '+') return v;
        if (v.type === 'scalar') return { type: 'scalar', v: v.v.map((x) => -x) };
        if (v.type !== 'vector') throw new EngineError('bad_data', 'unary minus on a non-numeric value');
        return {
          type: 'vector',
          series: v.series.map((s) => ({
            labels: s.labels,
            f: s.f.map((x) => -x),
            h: s.h ? s.h.map((h) => (h ? scaleH(h, -1) : undefined)) : null,
            has: s.has,
            dropName: true,
          })),
        };
      }
      case 'vectorSelector':
        return this.vectorSelector(e, ts, false);
      case 'matrixSelector':
        return this.matrixSelector(e, ts);
      case 'subquery':
        return this.subquery(e, ts);
      case 'binary':
        return evalBinary(this, e, await this.eval(e.lhs, ts), await this.eval(e.rhs, ts), ts.length);
      case 'aggregate':
        return evalAggregate(this, e, ts);
      case 'call':
        return evalCall(this, e, ts);
    }
  }

  async selectSeries(vs: VectorSelector, mint: number, maxt: number, range = 0): Promise<RangeSeries[]> {
    const list = await this.querier.select(this.hints(vs, mint, maxt, range), vs.matchers as Matcher[]);
    const out: RangeSeries[] = [];
    // Samples are written straight into shared pools that the series view:
    // typed arrays are allocated per pool, not per series. A series that
    // outgrows the pool's rest moves to a new pool (the copy is its own prefix).
    let poolT = new Float64Array(0);
    let poolF = new Float64Array(0);
    let used = 0;
    // Each series is read to its end before the next, so the previous iterator is
    // handed back for reuse; sources that cannot reuse one ignore the argument.
    let prev: SampleIterator | undefined;
    for (const s of list) {
      this.check();
      const it = s.iterator(prev);
      prev = it;
      // Block iterators copy a chunk's run of floats at once instead of one call chain per sample.
      const copier = it.copyFloats;
      let h: (FloatHistogram | undefined)[] | null = null;
      let n = 0;
      let vt = it.seek(mint);
      while (vt !== ValueType.None) {
        const st = it.atT();
        if (st > maxt) break;
        if (used + n === poolT.length) {
          const size = Math.max(65_536, n * 2);
          const nt = new Float64Array(size);
          nt.set(poolT.subarray(used, used + n));
          poolT = nt;
          const nf = new Float64Array(size);
          nf.set(poolF.subarray(used, used + n));
          poolF = nf;
          used = 0;
        }
        const k = used + n;
        if (vt === ValueType.Float && copier !== undefined) {
          const c = copier.call(it, poolT, poolF, k, poolT.length, maxt);
          if (c === 0) break;
          n += c;
          vt = it.next();
          continue;
        }
        poolT[k] = st;
        if (vt === ValueType.Float) poolF[k] = it.at();
        else {
          if (!h) h = [];
          // Copied: an iterator may reuse its histogram object for the next sample.
          h[n] = copyH(it.atHistogram());
          poolF[k] = 0;
        }
        n++;
        vt = it.next();
      }
      const err = it.err();
      if (err) throw new EngineError('execution', `read series: ${err.message}`, { cause: err });
      if (n === 0) continue;
      this.addSamples(n);
      out.push({
        labels: s.labels,
        t: poolT.subarray(used, used + n),
        f: poolF.subarray(used, used + n),
        h,
        n,
        dropName: false,
      });
      used += n;
    }
    return out;
  }

  /**
   * An instant vector selector; with `withTimes`, values are the sample
   * timestamps in seconds. Each series is read into one scratch buffer
   * reused for the next (only the per-step values are kept), so no pool of
   * every selected sample is built.
   */
  async vectorSelector(vs: VectorSelector, ts: Float64Array, withTimes: boolean): Promise<VectorValue> {
    const rt = this.refTimes(ts, vs.at, vs.offset);
    const [lo, hi] = timeSpan(rt);
    const steps = ts.length;
    let monotone = true;
    for (let i = 1; i < rt.length; i++) if ((rt[i] as number) < (rt[i - 1] as number)) monotone = false;
    const series: StepSeries[] = [];
    // One allocation for all series' slots; each series views its own region.
    let fAll: Float64Array | undefined;
    let hasAll: Uint8Array | undefined;
    const lookback = this.lookback;
    await this.eachSelected(vs, lo - lookback + 1, hi, 0, (src, k, count, scratch, rn) => {
      if (fAll === undefined || hasAll === undefined) {
        fAll = new Float64Array(steps * count);
        hasAll = new Uint8Array(steps * count);
      }
      const s: StepSeries = {
        labels: src.labels,
        f: fAll.subarray(k * steps, (k + 1) * steps),
        h: null,
        has: hasAll.subarray(k * steps, (k + 1) * steps),
        dropName: false,
      };
      const rtimes = scratch.t;
      const rf = scratch.f;
      const rh = scratch.h;
      const sf = s.f;
      const has = s.has;
      let points = 0;
      if (monotone && rh === null && !withTimes) {
        // Floats only, times growing: the common case, without the branches below.
        let j = -1;
        for (let i = 0; i < steps; i++) {
          const ref = rt[i] as number;
          while (j + 1 < rn && (rtimes[j + 1] as number) <= ref) j++;
          if (j < 0 || (rtimes[j] as number) <= ref - lookback) continue;
          const v = rf[j] as number;
          if (Number.isNaN(v) && isStaleNaN(v)) continue;
          has[i] = 1;
          sf[i] = v;
          points++;
        }
      } else {
        let lastJ = -1;
        for (let i = 0; i < steps; i++) {
          const ref = rt[i] as number;
          let j: number;
          if (monotone) {
            // Reference times only grow: walk forward from the previous step's sample.
            j = lastJ;
            while (j + 1 < rn && (rtimes[j + 1] as number) <= ref) j++;
          } else j = lastAtOrBefore(rtimes, rn, ref);
          const prevJ = lastJ;
          lastJ = j;
          if (j < 0) continue;
          const st = rtimes[j] as number;
          if (st <= ref - lookback) continue;
          const hist = rh === null ? undefined : rh[j];
          const v = rf[j] as number;
          if (!hist && isStaleNaN(v)) continue;
          has[i] = 1;
          points++;
          if (withTimes) sf[i] = st / 1000;
          else if (hist) {
            if (!s.h) s.h = new Array(steps);
            // A sample seen again at a later step (lookback) must not count as a second counter reset.
            s.h[i] = hist.counterResetHint === 1 && j === prevJ ? { ...hist, counterResetHint: 0 } : hist;
          } else sf[i] = v;
        }
      }
      if (points > 0) {
        this.addSamples(points);
        series.push(s);
      }
    });
    return { type: 'vector', series };
  }

  /**
   * Reads each series the matchers select, in [mint, maxt], into one reused
   * buffer (handing the previous iterator back for reuse) and passes those
   * with samples to `visit` with their index and the number selected.
   * `visit` must not keep the buffer's arrays.
   */
  private async eachSelected(
    vs: VectorSelector,
    mint: number,
    maxt: number,
    range: number,
    visit: (src: Series, k: number, count: number, buf: SampleBuffer, n: number) => void,
  ): Promise<void> {
    const list = await this.querier.select(this.hints(vs, mint, maxt, range), vs.matchers as Matcher[]);
    const buf: SampleBuffer = { t: new Float64Array(256), f: new Float64Array(256), h: null };
    let prev: SampleIterator | undefined;
    for (let k = 0; k < list.length; k++) {
      this.check();
      const src = list[k]!;
      const it = src.iterator(prev);
      prev = it;
      const n = readSamples(it, mint, maxt, buf);
      if (n === 0) continue;
      this.addSamples(n);
      visit(src, k, list.length, buf, n);
    }
  }

  /**
   * Reads a range selector's series one at a time into one reused buffer
   * and hands each (staleness markers dropped) to `visit` with its index and
   * the number of series selected: for functions that reduce a series to
   * per-step values at once, so no pool of every selected sample is built.
   * `visit` must not keep the series' arrays.
   */
  async eachRangeSeries(
    ms: MatrixSelector,
    ts: Float64Array,
    visit: (s: RangeSeries, k: number, count: number, ends: Float64Array, range: number) => void,
  ): Promise<void> {
    const vs = ms.selector;
    const range = this.duration(ms.range);
    if (range <= 0) throw new EngineError('bad_data', `range selector duration must be greater than 0`);
    const rt = this.refTimes(ts, vs.at, vs.offset);
    const [lo, hi] = timeSpan(rt);
    await this.eachSelected(vs, lo - range + 1, hi, range, (src, k, count, buf, read) => {
      const n = dropStaleInPlace(buf, read);
      visit({ labels: src.labels, t: buf.t, f: buf.f, h: buf.h, n, dropName: false }, k, count, rt, range);
    });
  }

  async matrixSelector(ms: MatrixSelector, ts: Float64Array): Promise<MatrixValue> {
    const vs = ms.selector;
    const range = this.duration(ms.range);
    if (range <= 0) throw new EngineError('bad_data', `range selector duration must be greater than 0`);
    const rt = this.refTimes(ts, vs.at, vs.offset);
    const [lo, hi] = timeSpan(rt);
    const raw = await this.selectSeries(vs, lo - range + 1, hi, range);
    // Staleness markers never appear inside a range.
    const series = raw.map((r) => dropStale(r));
    return { type: 'matrix', series, ends: rt, range };
  }

  async subquery(sq: SubqueryExpr, ts: Float64Array): Promise<MatrixValue> {
    const range = this.duration(sq.range);
    const step = sq.step ? this.duration(sq.step) : this.interval > 0 ? this.interval : DEFAULT_SUBQUERY_STEP;
    if (step <= 0) throw new EngineError('bad_data', 'zero or negative step in subquery');
    const rt = this.refTimes(ts, sq.at, sq.offset);
    const [lo, hi] = timeSpan(rt);
    // Inner points are the multiples of step in (ref - range, ref] for some ref.
    const first = Math.floor((lo - range) / step) * step + step;
    const count = hi >= first ? Math.floor((hi - first) / step) + 1 : 0;
    if (count > 11_000_000) throw new EngineError('execution', 'subquery would evaluate too many points');
    const inner = new Float64Array(count);
    for (let i = 0; i < count; i++) inner[i] = first + i * step;
    const v = count > 0 ? await this.eval(sq.expr, inner) : { type: 'vector' as const, series: [] };
    if (v.type !== 'vector') throw new EngineError('bad_data', 'subquery is only allowed on instant vector');
    const series: RangeSeries[] = [];
    // One allocation for all series' points; each series views its own region.
    let total = 0;
    for (const s of v.series) for (let i = 0; i < count; i++) total += s.has[i] as number;
    const tAll = new Float64Array(total);
    const fAll = new Float64Array(total);
    let used = 0;
    for (const s of v.series) {
      let n = 0;
      for (let i = 0; i < count; i++) n += s.has[i] as number;
      const t = tAll.subarray(used, used + n);
      const f = fAll.subarray(used, used + n);
      used += n;
      let h: (FloatHistogram | undefined)[] | null = null;
      let k = 0;
      for (let i = 0; i < count; i++) {
        if (!s.has[i]) continue;
        t[k] = inner[i] as number;
        const hist = s.h?.[i];
        if (hist) {
          if (!h) h = new Array(n);
          h[k] = hist;
        } else f[k] = s.f[i] as number;
        k++;
      }
      this.addSamples(n);
      if (n > 0) series.push({ labels: s.labels, t, f, h, n, dropName: s.dropName });
    }
    return { type: 'matrix', series, ends: rt, range };
  }
}

function unwrapParens(e: Expr): Expr {
  return e.kind === 'paren' ? unwrapParens(e.expr) : e;
}

/** The labels without the metric name and the type and unit labels that belong to it. */
function dropMetricName(ls: Labels): Labels {
  return ls.filter((l) => l.name !== METRIC_NAME && l.name !== '__type__' && l.name !== '__unit__');
}

/** Removes names marked for removal and checks that label sets stay unique per time. */
function finalizeNames(v: VectorValue, steps: number): StepSeries[] {
  const out: StepSeries[] = [];
  const byKey = new Map<string, StepSeries>();
  for (const s of v.series) {
    const labels: Labels = s.dropName ? dropMetricName(s.labels) : s.labels;
    const key = labelsKey(labels);
    const prev = byKey.get(key);
    if (!prev) {
      const ns = { ...s, labels, dropName: false };
      byKey.set(key, ns);
      out.push(ns);
      continue;
    }
    // Two series became one label set: fine only when they never share a time.
    const merged: StepSeries = {
      ...prev,
      f: prev.f.slice(),
      has: prev.has.slice(),
      h: prev.h ? [...prev.h] : null,
    };
    for (let i = 0; i < steps; i++) {
      if (!s.has[i]) continue;
      if (merged.has[i]) throw duplicateLabelset();
      merged.has[i] = 1;
      merged.f[i] = s.f[i] as number;
      const hist = s.h?.[i];
      if (hist) {
        if (!merged.h) merged.h = new Array(steps);
        merged.h[i] = hist;
      }
    }
    byKey.set(key, merged);
    out[out.indexOf(prev)] = merged;
  }
  return out;
}

/** Orders an instant result as the root expression asks (sort functions, topk/bottomk). */
function orderInstant(root: Expr, samples: VectorSample[]): VectorSample[] {
  const e = unwrapParens(root);
  const key = (s: VectorSample) => (s.h ? s.h.sum : s.f);
  if (e.kind === 'call' && (e.func === 'sort' || e.func === 'sort_desc')) {
    const desc = e.func === 'sort_desc';
    return [...samples].sort((a, b) => {
      const x = key(a);
      const y = key(b);
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
      if (Number.isNaN(y)) return -1;
      return desc ? y - x : x - y;
    });
  }
  return samples;
}

/** The PromQL engine (Prometheus semantics, version 3). */
export class Engine implements QueryEngine {
  private readonly lookback: number;
  private readonly maxSamples: number;
  private readonly timeout: number;
  private readonly now: () => number;

  constructor(options: EngineOptions = {}) {
    this.lookback = options.lookbackDelta ?? DEFAULT_LOOKBACK;
    this.maxSamples = options.maxSamples ?? DEFAULT_MAX_SAMPLES;
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT;
    this.now = options.now ?? Date.now;
  }

  async instantQuery(
    querier: Querier,
    expr: string,
    time: number,
    signal?: AbortSignal,
  ): Promise<QueryResult> {
    const ast = parseExpr(expr);
    const ev = this.evaluator(querier, ast, time, time, 0, signal);
    const ts = Float64Array.of(time);
    const v = await runGuarded(() => ev.eval(ast, ts));
    let value: QueryValue;
    switch (v.type) {
      case 'scalar':
        value = { resultType: 'scalar', result: { t: time, f: v.v[0] as number } };
        break;
      case 'string':
        value = { resultType: 'string', result: { t: time, s: v.s } };
        break;
      case 'vector': {
        const series = finalizeNames(v, 1);
        const samples: VectorSample[] = [];
        for (const s of series) {
          if (!s.has[0]) continue;
          const h = s.h?.[0];
          samples.push(
            h ? { metric: s.labels, t: time, f: 0, h } : { metric: s.labels, t: time, f: s.f[0] as number },
          );
        }
        value = { resultType: 'vector', result: orderInstant(ast, samples) };
        break;
      }
      case 'matrix': {
        const result: MatrixSeries[] = [];
        const end = v.ends[0] as number;
        for (const s of v.series) {
          const ft: number[] = [];
          const ff: number[] = [];
          const histograms: HPoint[] = [];
          for (let i = 0; i < s.n; i++) {
            const t = s.t[i] as number;
            if (t <= end - v.range || t > end) continue;
            const h = s.h?.[i];
            if (h) histograms.push({ t, h });
            else {
              ft.push(t);
              ff.push(s.f[i] as number);
            }
          }
          if (ft.length + histograms.length > 0)
            result.push({
              metric: s.dropName ? dropMetricName(s.labels) : s.labels,
              floats: { t: Float64Array.from(ft), f: Float64Array.from(ff) },
              histograms,
            });
        }
        result.sort((a, b) => compareLabels(a.metric, b.metric));
        value = { resultType: 'matrix', result };
        break;
      }
    }
    return { value, warnings: [...ev.warnings], infos: [...ev.infos] };
  }

  async rangeQuery(
    querier: Querier,
    expr: string,
    start: number,
    end: number,
    step: number,
    signal?: AbortSignal,
  ): Promise<QueryResult> {
    if (!(step > 0))
      throw new EngineError('bad_data', 'zero or negative query resolution step widths are not accepted');
    if (end < start) throw new EngineError('bad_data', 'end timestamp must not be before start time');
    const n = Math.floor((end - start) / step) + 1;
    if (n > 11000)
      throw new EngineError('bad_data', 'exceeded maximum resolution of 11,000 points per timeseries');
    const ast = parseExpr(expr);
    const t = typeOf(ast);
    if (t !== 'vector' && t !== 'scalar')
      throw new EngineError(
        'bad_data',
        `invalid expression type "${t === 'matrix' ? 'range vector' : t}" for range query, must be Scalar or instant Vector`,
      );
    const ev = this.evaluator(querier, ast, start, end, step, signal);
    const ts = new Float64Array(n);
    for (let i = 0; i < n; i++) ts[i] = start + i * step;
    const v = await runGuarded(() => ev.eval(ast, ts));
    const result: MatrixSeries[] = [];
    if (v.type === 'scalar') {
      result.push({ metric: [], floats: { t: ts, f: v.v }, histograms: [] });
    } else if (v.type === 'vector') {
      const series = finalizeNames(v, n);
      // All series' float points in one pair of arrays; each series views its run.
      let total = 0;
      for (const s of series) for (let i = 0; i < n; i++) total += s.has[i] as number;
      const tAll = new Float64Array(total);
      const fAll = new Float64Array(total);
      let used = 0;
      for (const s of series) {
        const histograms: HPoint[] = [];
        const from = used;
        const sh = s.h;
        for (let i = 0; i < n; i++) {
          if (!s.has[i]) continue;
          const h = sh?.[i];
          if (h) histograms.push({ t: ts[i] as number, h });
          else {
            tAll[used] = ts[i] as number;
            fAll[used] = s.f[i] as number;
            used++;
          }
        }
        if (used > from || histograms.length > 0)
          result.push({
            metric: s.labels,
            floats: { t: tAll.subarray(from, used), f: fAll.subarray(from, used) },
            histograms,
          });
      }
      result.sort((a, b) => compareLabels(a.metric, b.metric));
    }
    return { value: { resultType: 'matrix', result }, warnings: [...ev.warnings], infos: [...ev.infos] };
  }

  private evaluator(
    querier: Querier,
    ast: Expr,
    start: number,
    end: number,
    step: number,
    signal?: AbortSignal,
  ) {
    const funcs = selectorFuncs(ast);
    const { lookback, maxSamples, timeout, now } = this;
    return new Evaluator(querier, start, end, step, lookback, maxSamples, timeout, now, signal, funcs);
  }
}

/** Turns anything thrown during evaluation into an EngineError. */
async function runGuarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof EngineError) throw e;
    if (e instanceof RangeError)
      throw new EngineError('execution', `evaluation limit: ${e.message}`, { cause: e });
    throw new EngineError('execution', (e as Error)?.message ?? String(e), { cause: e });
  }
}

/** The earliest and latest of the reference times. */
function timeSpan(rt: Float64Array): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const x of rt) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}
