import type { AtModifier, DurationExpr, Expr, VectorSelector } from '../promql/ast.js';
import { FUNCTION_TYPES } from '../promql/function-types.js';
import { formatFloat } from './format.js';

/**
 * The syntax tree in the JSON shape of Prometheus' `/api/v1/parse_query`
 * (the shape its web UI's tree view reads): node `type`, operator names,
 * durations in milliseconds, matchers as `{name, value, type}`.
 */
export function parseTreeJson(e: Expr): unknown {
  switch (e.kind) {
    case 'number':
      return { type: 'numberLiteral', val: formatFloat(e.value) };
    case 'string':
      return { type: 'stringLiteral', val: e.value };
    case 'paren':
      return { type: 'parenExpr', expr: parseTreeJson(e.expr) };
    case 'unary':
      return { type: 'unaryExpr', op: e.op, expr: parseTreeJson(e.expr) };
    case 'vectorSelector':
      return {
        type: 'vectorSelector',
        name: e.name,
        offset: durationMs(e.offset),
        matchers: matchersJson(e),
        timestamp: atTimestamp(e.at),
        startOrEnd: startOrEnd(e.at),
        anchored: false,
        smoothed: false,
      };
    case 'matrixSelector': {
      const vs = e.selector;
      return {
        type: 'matrixSelector',
        name: vs.name,
        range: durationMs(e.range),
        offset: durationMs(vs.offset),
        matchers: matchersJson(vs),
        timestamp: atTimestamp(vs.at),
        startOrEnd: startOrEnd(vs.at),
        anchored: false,
        smoothed: false,
      };
    }
    case 'subquery':
      return {
        type: 'subquery',
        expr: parseTreeJson(e.expr),
        range: durationMs(e.range),
        offset: durationMs(e.offset),
        step: durationMs(e.step),
        timestamp: atTimestamp(e.at),
        startOrEnd: startOrEnd(e.at),
        alignEvalTime: false,
      };
    case 'call': {
      const ft = FUNCTION_TYPES.get(e.func);
      return {
        type: 'call',
        func: {
          name: e.func,
          argTypes: ft?.args ?? [],
          variadic: ft?.optional ?? 0,
          returnType: ft?.returns ?? 'vector',
        },
        args: e.args.map(parseTreeJson),
      };
    }
    case 'aggregate':
      return {
        type: 'aggregation',
        op: e.op,
        expr: parseTreeJson(e.expr),
        param: e.param === null ? null : parseTreeJson(e.param),
        grouping: e.grouping,
        without: e.without,
      };
    case 'binary':
      return {
        type: 'binaryExpr',
        op: e.op,
        lhs: parseTreeJson(e.lhs),
        rhs: parseTreeJson(e.rhs),
        matching:
          e.matching === null
            ? null
            : {
                card: e.matching.card,
                labels: e.matching.labels,
                on: e.matching.on,
                include: e.matching.include,
                fillValues: { lhs: null, rhs: null },
              },
        bool: e.returnBool,
      };
  }
}

/** A duration known at parse time, in milliseconds; `step()`/`range()` are only known per query, so 0. */
function durationMs(d: DurationExpr | null): number {
  if (d === null) return 0;
  switch (d.kind) {
    case 'dnum':
      return d.ms;
    case 'dstep':
    case 'drange':
      return 0;
    case 'dparen':
      return durationMs(d.expr);
    case 'dunary':
      return d.op === '-' ? -durationMs(d.expr) : durationMs(d.expr);
    case 'dminmax':
      return (d.op === 'min_of' ? Math.min : Math.max)(durationMs(d.lhs), durationMs(d.rhs));
    case 'dbin': {
      const a = durationMs(d.lhs);
      const b = durationMs(d.rhs);
      switch (d.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return b === 0 ? 0 : a / b;
        case '%':
          return b === 0 ? 0 : a % b;
        case '^':
          return a ** b;
      }
    }
  }
}

function atTimestamp(at: AtModifier | null): number | null {
  return at !== null && at.kind === 'time' ? at.ms : null;
}

function startOrEnd(at: AtModifier | null): string | null {
  if (at === null || at.kind === 'time') return null;
  return at.kind;
}

/** Matchers as Prometheus lists them: the one for the metric name written before the braces comes last. */
function matchersJson(vs: VectorSelector): Array<{ name: string; value: string; type: string }> {
  const out = vs.matchers.map((m) => ({ name: m.name, value: m.value, type: m.type }));
  if (vs.name === '') return out;
  const i = out.findIndex((m) => m.name === '__name__' && m.type === '=' && m.value === vs.name);
  if (i >= 0) out.push(...out.splice(i, 1));
  return out;
}
