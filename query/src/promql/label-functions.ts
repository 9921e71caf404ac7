import { compileRegex, type Labels, type Regex, type RegexGroups } from '@promstream/storage';
import { EngineError } from '../engine-types.js';
import type { Call, Expr } from './ast.js';
import { stringArg, vectorArg } from './call-args.js';
import type { EvalContext } from './context.js';
import { isValidLabelName, labelsKey, labelValue, METRIC_NAME, withLabel } from './labels.js';
import { SeriesBuilder, type Value, type VectorValue } from './values.js';

/** PromQL functions that sort or rewrite series by their labels. */

/** The calls that sort or rewrite series by their labels. */
export const LABEL_CALLS: ReadonlySet<string> = new Set([
  'sort_by_label',
  'sort_by_label_desc',
  'label_replace',
  'label_join',
]);

/** Evaluates `sort_by_label(_desc)`, `label_replace` and `label_join`. */
export async function evalLabelCall(ctx: EvalContext, e: Call, ts: Float64Array): Promise<Value> {
  const steps = ts.length;
  const name = e.func;
  switch (name) {
    case 'sort_by_label':
    case 'sort_by_label_desc': {
      const v = vectorArg(await ctx.eval(e.args[0] as Expr, ts));
      const names: string[] = [];
      for (const a of e.args.slice(1)) names.push(stringArg(await ctx.eval(a, ts)));
      const sign = name === 'sort_by_label' ? 1 : -1;
      const sorted = [...v.series].sort((x, y) => {
        for (const n of names) {
          const c = naturalCompare(labelValue(x.labels, n), labelValue(y.labels, n));
          if (c !== 0) return sign * c;
        }
        return sign * naturalCompare(labelsKey(x.labels), labelsKey(y.labels));
      });
      return { type: 'vector', series: sorted };
    }
    case 'label_replace': {
      const v = vectorArg(await ctx.eval(e.args[0] as Expr, ts));
      const [dst, repl, src, regex] = await Promise.all(
        e.args.slice(1).map(async (a) => stringArg(await ctx.eval(a, ts))),
      );
      let re: Regex;
      try {
        re = compileRegex(regex as string);
      } catch (err) {
        throw new EngineError('execution', `invalid regular expression in label_replace(): ${regex}`, {
          cause: err,
        });
      }
      if (!isValidLabelName(dst as string))
        throw new EngineError('execution', `invalid destination label name in label_replace(): ${dst}`);
      return relabel(
        v,
        steps,
        (ls) => {
          const m = re.exec(labelValue(ls, src as string));
          if (m === undefined) return ls;
          return withLabel(ls, dst as string, expandTemplate(repl as string, m));
        },
        dst as string,
      );
    }
    case 'label_join': {
      const v = vectorArg(await ctx.eval(e.args[0] as Expr, ts));
      const strs: string[] = [];
      for (const a of e.args.slice(1)) strs.push(stringArg(await ctx.eval(a, ts)));
      const [dst, sep, ...srcs] = strs as [string, string, ...string[]];
      if (!isValidLabelName(dst))
        throw new EngineError('execution', `invalid destination label name in label_join(): ${dst}`);
      for (const s of srcs)
        if (!isValidLabelName(s))
          throw new EngineError('execution', `invalid source label name in label_join(): ${s}`);
      return relabel(v, steps, (ls) => withLabel(ls, dst, srcs.map((s) => labelValue(ls, s)).join(sep)), dst);
    }
    default:
      throw new EngineError('bad_data', `function "${name}" is not supported`);
  }
}

/** Go regexp.Expand for label_replace replacement templates. */
function expandTemplate(tpl: string, m: RegexGroups): string {
  let out = '';
  for (let i = 0; i < tpl.length; i++) {
    const c = tpl[i] as string;
    if (c !== '$' || i + 1 >= tpl.length) {
      out += c;
      continue;
    }
    const n = tpl[i + 1] as string;
    if (n === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    let end: number;
    if (n === '{') {
      const close = tpl.indexOf('}', i + 2);
      if (close < 0) {
        out += c;
        continue;
      }
      name = tpl.slice(i + 2, close);
      end = close;
    } else {
      const mm = /^[a-zA-Z0-9_]+/.exec(tpl.slice(i + 1));
      if (!mm) {
        out += c;
        continue;
      }
      name = mm[0];
      end = i + name.length;
    }
    const index = /^\d+$/.test(name) ? Number(name) : m.names[name];
    out += index === undefined ? '' : (m.groups[index] ?? '');
    i = end;
  }
  return out;
}

/** Natural ordering of strings (digit runs compare by number), as sort_by_label uses. */
function naturalCompare(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const xa = a.match(re) ?? [];
  const xb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
    const p = xa[i] as string;
    const q = xb[i] as string;
    if (p === q) continue;
    const dp = /^\d/.test(p);
    const dq = /^\d/.test(q);
    if (dp && dq) {
      const d = Number(p) - Number(q);
      if (d !== 0) return d;
      return p.length - q.length;
    }
    return p < q ? -1 : 1;
  }
  return xa.length - xb.length;
}

function relabel(v: VectorValue, steps: number, fn: (ls: Labels) => Labels, dst: string): VectorValue {
  const b = new SeriesBuilder(steps);
  for (const s of v.series) {
    const labels = fn(s.labels);
    const o = b.get(labels, dst === METRIC_NAME ? false : s.dropName);
    for (let i = 0; i < steps; i++) {
      if (!s.has[i]) continue;
      const h = s.h?.[i];
      if (h) b.setH(o, i, h);
      else b.setF(o, i, s.f[i] as number);
    }
  }
  return { type: 'vector', series: b.series };
}
