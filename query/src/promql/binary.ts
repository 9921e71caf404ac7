import type { FloatHistogram, Labels } from '@promstream/storage';
import { EngineError } from '../engine-types.js';
import { type BinaryExpr, type BinaryOp, COMPARISON_OPS, SET_OPS, type VectorMatching } from './ast.js';
import type { EvalContext } from './context.js';
import { addH, equalH, IncompatibleBoundsError, scaleH } from './histogram.js';
import { formatLabels, labelsKey, labelValue, METRIC_NAME, normalize } from './labels.js';
import { SeriesBuilder, type StepSeries, type Value, type VectorValue } from './values.js';

/**
 * Binary operators: arithmetic, comparison and set operators between
 * scalars and instant vectors, with Prometheus' vector matching rules.
 */

/** Go's math.Pow special cases that differ from JS `**`. */
function pow(a: number, b: number): number {
  if (a === 1) return 1;
  if (b === 0) return 1;
  if (a === -1 && (b === Number.POSITIVE_INFINITY || b === Number.NEGATIVE_INFINITY)) return 1;
  return a ** b;
}

/** Applies an arithmetic operator to two floats. */
export function arith(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    case '%':
      return l % r;
    case '^':
      return pow(l, r);
    case 'atan2':
      return Math.atan2(l, r);
    default:
      return Number.NaN;
  }
}

/** Applies a comparison operator to two floats. */
export function compare(op: BinaryOp, l: number, r: number): boolean {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '>':
      return l > r;
    case '<':
      return l < r;
    case '>=':
      return l >= r;
    case '<=':
      return l <= r;
    default:
      return false;
  }
}

type Operand = { f: number; h: FloatHistogram | undefined };

/**
 * One element operation. Returns undefined to drop the element; a histogram
 * result in `h`. The comparison result keeps `keepSide`'s value.
 */
function elemOp(
  ctx: EvalContext,
  op: BinaryOp,
  l: Operand,
  r: Operand,
  returnBool: boolean,
  keep: Operand,
): Operand | undefined {
  if (COMPARISON_OPS.has(op)) {
    let ok: boolean;
    if (l.h || r.h) {
      if (!(l.h && r.h) || (op !== '==' && op !== '!=')) {
        ctx.infos.add(
          `PromQL info: comparison between histograms or a histogram and a float is not supported for operator "${op}"`,
        );
        return undefined;
      }
      ok = equalH(l.h, r.h) === (op === '==');
    } else ok = compare(op, l.f, r.f);
    if (returnBool) return { f: ok ? 1 : 0, h: undefined };
    return ok ? keep : undefined;
  }
  if (!l.h && !r.h) return { f: arith(op, l.f, r.f), h: undefined };
  try {
    if (l.h && r.h) {
      if (op === '+') return { f: 0, h: addH(l.h, r.h, 1) };
      if (op === '-') return { f: 0, h: addH(l.h, r.h, -1) };
    } else if (l.h && !r.h) {
      if (op === '*') return { f: 0, h: scaleH(l.h, r.f) };
      if (op === '/') return { f: 0, h: divideH(l.h, r.f) };
    } else if (r.h && !l.h) {
      if (op === '*') return { f: 0, h: scaleH(r.h, l.f) };
    }
  } catch (e) {
    if (e instanceof IncompatibleBoundsError) {
      ctx.warnings.add(
        `PromQL warning: vector contains histograms with incompatible custom buckets for operator "${op}"`,
      );
      return undefined;
    }
    throw e;
  }
  const lt = l.h ? 'histogram' : 'float';
  const rt = r.h ? 'histogram' : 'float';
  ctx.infos.add(
    `PromQL info: incompatible sample types encountered for binary operator "${op}": ${lt} ${op} ${rt}`,
  );
  return undefined;
}

/** h / d; dividing by zero leaves only count, sum and the zero bucket (all infinite or NaN), as Prometheus does. */
function divideH(h: FloatHistogram, d: number): FloatHistogram {
  if (d !== 0) return scaleH(h, 1 / d);
  const r = scaleH(h, 1);
  r.count /= 0;
  r.sum /= 0;
  r.zeroCount /= 0;
  r.positiveSpans = [];
  r.positiveBuckets = [];
  r.negativeSpans = [];
  r.negativeBuckets = [];
  return r;
}

function operand(s: StepSeries, i: number): Operand {
  return { f: s.f[i] as number, h: s.h?.[i] };
}

function put(b: SeriesBuilder, s: StepSeries, i: number, v: Operand): void {
  if (v.h) b.setH(s, i, v.h);
  else b.setF(s, i, v.f);
}

/** Evaluates a binary expression over already evaluated operands. */
export function evalBinary(ctx: EvalContext, e: BinaryExpr, lhs: Value, rhs: Value, steps: number): Value {
  const { op, returnBool } = e;
  if (lhs.type === 'scalar' && rhs.type === 'scalar') {
    const v = new Float64Array(steps);
    for (let i = 0; i < steps; i++) {
      const l = lhs.v[i] as number;
      const r = rhs.v[i] as number;
      v[i] = COMPARISON_OPS.has(op) ? (compare(op, l, r) ? 1 : 0) : arith(op, l, r);
    }
    return { type: 'scalar', v };
  }
  if (lhs.type === 'vector' && rhs.type === 'scalar')
    return vectorScalar(ctx, op, lhs, rhs.v, false, returnBool, steps);
  if (lhs.type === 'scalar' && rhs.type === 'vector')
    return vectorScalar(ctx, op, rhs, lhs.v, true, returnBool, steps);
  if (lhs.type === 'vector' && rhs.type === 'vector') {
    const matching = e.matching as VectorMatching;
    if (SET_OPS.has(op)) return setOp(op, lhs, rhs, matching, steps);
    return vectorVector(ctx, e, lhs, rhs, matching, steps);
  }
  throw new EngineError('bad_data', 'binary expression must contain only scalar and instant vector types');
}

function vectorScalar(
  ctx: EvalContext,
  op: BinaryOp,
  vec: VectorValue,
  sc: Float64Array,
  swap: boolean,
  returnBool: boolean,
  steps: number,
): VectorValue {
  const isCmp = COMPARISON_OPS.has(op);
  const dropName = !isCmp || returnBool;
  const out: StepSeries[] = [];
  for (const s of vec.series) {
    const o: StepSeries = {
      labels: s.labels,
      f: new Float64Array(steps),
      h: null,
      has: new Uint8Array(steps),
      dropName: dropName || s.dropName,
    };
    let any = false;
    for (let i = 0; i < steps; i++) {
      if (!s.has[i]) continue;
      if (!s.h?.[i]) {
        // Float fast path: no objects per sample.
        const x = s.f[i] as number;
        const y = sc[i] as number;
        let r: number;
        if (isCmp) {
          const ok = swap ? compare(op, y, x) : compare(op, x, y);
          if (returnBool) r = ok ? 1 : 0;
          else if (ok) r = x;
          else continue;
        } else r = swap ? arith(op, y, x) : arith(op, x, y);
        o.f[i] = r;
        o.has[i] = 1;
        any = true;
        continue;
      }
      const vv = operand(s, i);
      const sv = { f: sc[i] as number, h: undefined };
      const r = swap ? elemOp(ctx, op, sv, vv, returnBool, vv) : elemOp(ctx, op, vv, sv, returnBool, vv);
      if (!r) continue;
      any = true;
      o.has[i] = 1;
      if (r.h) {
        if (!o.h) o.h = new Array(steps);
        o.h[i] = r.h;
      } else o.f[i] = r.f;
    }
    if (any) out.push(o);
  }
  return { type: 'vector', series: out };
}

/** The matching signature of a series. */
function signature(ls: Labels, m: VectorMatching): string {
  if (m.on) {
    const set = new Set(m.labels);
    return labelsKey(ls.filter((l) => set.has(l.name)));
  }
  const set = new Set(m.labels);
  return labelsKey(ls.filter((l) => l.name !== METRIC_NAME && !set.has(l.name)));
}

function setOp(
  op: BinaryOp,
  lhs: VectorValue,
  rhs: VectorValue,
  m: VectorMatching,
  steps: number,
): VectorValue {
  const lsig = lhs.series.map((s) => signature(s.labels, m));
  const rsig = rhs.series.map((s) => signature(s.labels, m));
  const b = new SeriesBuilder(steps);
  for (let i = 0; i < steps; i++) {
    if (op === 'or') {
      const seen = new Set<string>();
      lhs.series.forEach((s, j) => {
        if (!s.has[i]) return;
        seen.add(lsig[j] as string);
        put(b, b.get(s.labels, s.dropName), i, operand(s, i));
      });
      rhs.series.forEach((s, j) => {
        if (!s.has[i] || seen.has(rsig[j] as string)) return;
        put(b, b.get(s.labels, s.dropName), i, operand(s, i));
      });
      continue;
    }
    const right = new Set<string>();
    rhs.series.forEach((s, j) => {
      if (s.has[i]) right.add(rsig[j] as string);
    });
    lhs.series.forEach((s, j) => {
      if (!s.has[i]) return;
      const inRight = right.has(lsig[j] as string);
      if ((op === 'and') === inRight) put(b, b.get(s.labels, s.dropName), i, operand(s, i));
    });
  }
  return { type: 'vector', series: b.series };
}

function vectorVector(
  ctx: EvalContext,
  e: BinaryExpr,
  lhs: VectorValue,
  rhs: VectorValue,
  m: VectorMatching,
  steps: number,
): VectorValue {
  const { op, returnBool } = e;
  const isCmp = COMPARISON_OPS.has(op);
  // As in Prometheus 3 with delayed name removal, the result of two vectors does not inherit a
  // pending name removal: a filtering comparison keeps the many side's name, anything else drops it.
  const dropName = !isCmp || returnBool;
  // With group_right the roles swap: the "one" side is on the left.
  const oneToMany = m.card === 'one-to-many';
  const many = oneToMany ? rhs : lhs;
  const one = oneToMany ? lhs : rhs;
  const { oneBySig, manyIds, manyPerSig, signatures } = matchIndex(many, one, m);
  const ambiguousOne = oneBySig.filter((l) => l !== undefined && l.length > 1);
  const b = new SeriesBuilder(steps);
  const includeSet = new Set(m.include);
  interface Pair {
    out: StepSeries | undefined;
    labels: Labels;
    key: string;
    stamp: number;
  }
  const pairs = new Map<string, Pair>();
  const pairOf = (j: number, oi: number): Pair => {
    const ms = many.series[j] as StepSeries;
    const os = one.series[oi] as StepSeries;
    const labels = resultLabels(ms.labels, os.labels, m, includeSet);
    const key = labelsKey(labels);
    const pk = `${manyIds[j]}\u0000${key}`;
    let p = pairs.get(pk);
    if (!p) {
      p = { out: undefined, labels, key, stamp: -1 };
      pairs.set(pk, p);
    }
    return p;
  };
  const pairCache: (Pair | undefined)[][] = many.series.map(() => []);
  const sigStamp = new Int32Array(signatures).fill(-1);
  const side = oneToMany ? 'left' : 'right';
  for (let i = 0; i < steps; i++) {
    if ((i & 63) === 0) ctx.check();
    for (const list of ambiguousOne) checkOneSideUnique(one, list, i, m, side);
    for (let j = 0; j < many.series.length; j++) {
      const ms = many.series[j] as StepSeries;
      if (!ms.has[i]) continue;
      const id = manyIds[j] as number;
      const cands = oneBySig[id];
      if (!cands) continue;
      let ci = -1;
      for (let c = 0; c < cands.length; c++) {
        if ((one.series[cands[c] as number] as StepSeries).has[i]) {
          ci = c;
          break;
        }
      }
      if (ci < 0) continue;
      const oi = cands[ci] as number;
      const os = one.series[oi] as StepSeries;
      let pair = pairCache[j]?.[ci];
      if (!pair) {
        pair = pairOf(j, oi);
        (pairCache[j] as (Pair | undefined)[])[ci] = pair;
      }
      if (m.card === 'one-to-one') {
        if ((manyPerSig.get(id) ?? 0) > 1) {
          if (sigStamp[id] === i)
            throw new EngineError(
              'execution',
              'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
            );
          sigStamp[id] = i;
        }
      } else {
        if (pair.stamp === i)
          throw new EngineError(
            'execution',
            'multiple matches for labels: grouping labels must ensure unique matches',
          );
        pair.stamp = i;
      }
      const lh = oneToMany ? os : ms;
      const rh = oneToMany ? ms : os;
      if (!lh.h?.[i] && !rh.h?.[i]) {
        // Float fast path: no objects per sample.
        const lf = lh.f[i] as number;
        const rf = rh.f[i] as number;
        let v: number;
        if (isCmp) {
          const ok = compare(op, lf, rf);
          if (returnBool) v = ok ? 1 : 0;
          else if (ok) v = lf;
          else continue;
        } else v = arith(op, lf, rf);
        pair.out ??= b.get(pair.labels, dropName, pair.key);
        b.setF(pair.out, i, v);
        continue;
      }
      const l = operand(lh, i);
      const v = elemOp(ctx, op, l, operand(rh, i), returnBool, l);
      if (!v) continue;
      pair.out ??= b.get(pair.labels, dropName, pair.key);
      put(b, pair.out, i, v);
    }
  }
  return { type: 'vector', series: b.series };
}

/**
 * The match signatures of both sides, computed once (per step only presence
 * changes): the "one" side's series by signature id, the signature id of each
 * "many" series, how many "many" series share each id, and how many ids there are.
 */
function matchIndex(
  many: VectorValue,
  one: VectorValue,
  m: VectorMatching,
): { oneBySig: number[][]; manyIds: number[]; manyPerSig: Map<number, number>; signatures: number } {
  const sigIds = new Map<string, number>();
  const idOf = (ls: Labels): number => {
    const sig = signature(ls, m);
    let id = sigIds.get(sig);
    if (id === undefined) {
      id = sigIds.size;
      sigIds.set(sig, id);
    }
    return id;
  };
  const oneBySig: number[][] = [];
  one.series.forEach((s, j) => {
    const id = idOf(s.labels);
    const list = oneBySig[id];
    if (list) list.push(j);
    else oneBySig[id] = [j];
  });
  const manyIds = many.series.map((s) => idOf(s.labels));
  const manyPerSig = new Map<number, number>();
  for (const id of manyIds) manyPerSig.set(id, (manyPerSig.get(id) ?? 0) + 1);
  return { oneBySig, manyIds, manyPerSig, signatures: sigIds.size };
}

/** Throws Prometheus' many-to-many error when two series of one match group on the "one" side are present at step i. */
function checkOneSideUnique(
  one: VectorValue,
  list: number[],
  i: number,
  m: VectorMatching,
  side: string,
): void {
  let first = -1;
  for (const oi of list) {
    const os = one.series[oi] as StepSeries;
    if (!os.has[i]) continue;
    if (first >= 0)
      throw new EngineError(
        'execution',
        `found duplicate series for the match group ${formatMatchGroup(os.labels, m)} on the ${side} hand-side of the operation: [${formatLabels((one.series[first] as StepSeries).labels)}, ${formatLabels(os.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    first = oi;
  }
}

function formatMatchGroup(ls: Labels, m: VectorMatching): string {
  const set = new Set(m.labels);
  const kept = m.on
    ? ls.filter((l) => set.has(l.name))
    : ls.filter((l) => l.name !== METRIC_NAME && !set.has(l.name));
  return `{${kept.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`;
}

function resultLabels(many: Labels, one: Labels, m: VectorMatching, include: Set<string>): Labels {
  if (m.card === 'one-to-one') {
    const set = new Set(m.labels);
    if (m.on) return many.filter((l) => set.has(l.name));
    return many.filter((l) => !set.has(l.name));
  }
  if (include.size === 0) return many;
  const out = many.filter((l) => !include.has(l.name));
  for (const name of include) {
    const v = labelValue(one, name);
    if (v !== '') out.push({ name, value: v });
  }
  return normalize([...out]);
}
