import type { AtModifier, DurationExpr, Expr, VectorSelector } from './ast.js';
import { goQuote } from './labels.js';

/**
 * Prints an expression back as PromQL, in the layout of Prometheus'
 * `format_query`: long expressions are split over indented lines.
 */

const MAX_LINE = 100;

/** Formats milliseconds as a Prometheus duration (`1h30m`, `500ms`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let rest = Math.abs(ms);
  const units: [string, number][] = [
    ['y', 365 * 86_400_000],
    ['w', 7 * 86_400_000],
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ];
  let out = '';
  for (const [u, size] of units) {
    // Years and weeks only when exact, as Prometheus prints (90d rather than 12w6d).
    if ((u === 'y' || u === 'w') && rest % size !== 0) continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return neg ? `-${out}` : out;
}

/** A number literal as Prometheus 3 prints it: Go's strconv.FormatFloat(v, 'f', -1, 64). */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  // Go's FormatFloat(v, 'f', -1, 64): the shortest digits that read back as v, never an exponent.
  const [mant, expText] = Math.abs(v).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const intDigits = Number(expText) + 1;
  let text: string;
  if (intDigits <= 0) text = `0.${'0'.repeat(-intDigits)}${digits}`;
  else if (digits.length <= intDigits) text = digits + '0'.repeat(intDigits - digits.length);
  else text = `${digits.slice(0, intDigits)}.${digits.slice(intDigits)}`;
  return v < 0 ? `-${text}` : text;
}

function durationText(d: DurationExpr): string {
  switch (d.kind) {
    case 'dnum':
      // A bare number stays a number (seconds); a duration literal prints normalized.
      if (
        d.text !== undefined &&
        !/[a-z]/i.test(d.text.replace(/e[+-]?\d+$/i, '').replace(/^[+-]?(inf|nan)$/i, ''))
      )
        return formatNumber(d.ms / 1000);
      return formatDuration(d.ms);
    case 'dstep':
      return 'step()';
    case 'drange':
      return 'range()';
    case 'dparen':
      return `(${durationText(d.expr)})`;
    case 'dunary':
      return `${d.op}${durationText(d.expr)}`;
    case 'dminmax':
      return `${d.op}(${durationText(d.lhs)}, ${durationText(d.rhs)})`;
    case 'dbin':
      return `${durationText(d.lhs)} ${d.op} ${durationText(d.rhs)}`;
  }
}

function atText(at: AtModifier | null): string {
  if (!at) return '';
  if (at.kind === 'start') return ' @ start()';
  if (at.kind === 'end') return ' @ end()';
  return ` @ ${(at.ms / 1000).toFixed(3)}`;
}

function offsetText(o: DurationExpr | null): string {
  if (!o) return '';
  // An offset takes one duration; arithmetic needs parentheses to stay attached to it.
  const text = durationText(o);
  return o.kind === 'dbin' ? ` offset (${text})` : ` offset ${text}`;
}

function quote(s: string): string {
  return goQuote(s);
}

function selectorText(vs: VectorSelector): string {
  const rest = vs.matchers.filter((m) => !(vs.name !== '' && m.name === '__name__' && m.type === '='));
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(vs.name) || vs.name === '' ? vs.name : '';
  const quotedName = vs.name !== '' && name === '' ? [quote(vs.name)] : [];
  const ms = rest.map(
    (m) => `${/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(m.name) ? m.name : quote(m.name)}${m.type}${quote(m.value)}`,
  );
  const all = [...quotedName, ...ms.sort()];
  return all.length > 0 || name === '' ? `${name}{${all.join(',')}}` : name;
}

function grouping(labels: string[]): string {
  return `(${labels.join(', ')})`;
}

/** Single-line text of an expression. */
function flat(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return formatNumber(e.value);
    case 'string':
      return quote(e.value);
    case 'vectorSelector':
      return `${selectorText(e)}${atText(e.at)}${offsetText(e.offset)}`;
    case 'matrixSelector':
      return `${selectorText(e.selector)}[${durationText(e.range)}]${atText(e.selector.at)}${offsetText(e.selector.offset)}`;
    case 'subquery':
      return `${flat(e.expr)}[${durationText(e.range)}:${e.step ? durationText(e.step) : ''}]${atText(e.at)}${offsetText(e.offset)}`;
    case 'paren':
      return `(${flat(e.expr)})`;
    case 'unary':
      return `${e.op}${flat(e.expr)}`;
    case 'call':
      return `${e.func}(${e.args.map(flat).join(', ')})`;
    case 'aggregate': {
      const mod = aggModifier(e);
      const args = e.param ? `${flat(e.param)}, ${flat(e.expr)}` : flat(e.expr);
      return `${e.op}${mod}(${args})`;
    }
    case 'binary':
      return `${flat(e.lhs)} ${e.op}${binModifiers(e)} ${flat(e.rhs)}`;
  }
}

/** ` by (a) ` / ` without (a) ` (an empty `by ()` prints as nothing, as in Prometheus). */
function aggModifier(e: Extract<Expr, { kind: 'aggregate' }>): string {
  if (e.without) return ` without ${grouping(e.grouping)} `;
  if (e.grouping.length > 0) return ` by ${grouping(e.grouping)} `;
  return '';
}

function binModifiers(e: Extract<Expr, { kind: 'binary' }>): string {
  let s = e.returnBool ? ' bool' : '';
  const m = e.matching;
  if (m?.explicit) {
    s += ` ${m.on ? 'on' : 'ignoring'} ${grouping(m.labels)}`;
    if (m.card === 'many-to-one') s += ` group_left ${grouping(m.include)}`;
    if (m.card === 'one-to-many') s += ` group_right ${grouping(m.include)}`;
  }
  return s;
}

function pretty(e: Expr, level: number): string {
  const ind = '  '.repeat(level);
  const line = flat(e);
  if (line.length <= MAX_LINE) return ind + line;
  switch (e.kind) {
    case 'paren':
      return `${ind}(\n${pretty(e.expr, level + 1)}\n${ind})`;
    case 'call':
      return `${ind}${e.func}(\n${e.args.map((a) => pretty(a, level + 1)).join(',\n')}\n${ind})`;
    case 'aggregate': {
      const mod = aggModifier(e);
      const args = [...(e.param ? [e.param] : []), e.expr].map((a) => pretty(a, level + 1)).join(',\n');
      return `${ind}${e.op}${mod}(\n${args}\n${ind})`;
    }
    case 'binary':
      return `${pretty(e.lhs, level + 1)}\n${ind}${e.op}${binModifiers(e)}\n${pretty(e.rhs, level + 1)}`;
    case 'subquery':
      return `${pretty(e.expr, level)}[${durationText(e.range)}:${e.step ? durationText(e.step) : ''}]${atText(e.at)}${offsetText(e.offset)}`;
    case 'unary':
      return `${ind}${e.op}${pretty(e.expr, level).trimStart()}`;
    default:
      return ind + line;
  }
}

/** Formats an expression as Prometheus' `format_query` does. */
export function formatExpr(e: Expr): string {
  return pretty(e, 0);
}
