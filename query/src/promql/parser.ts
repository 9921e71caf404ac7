import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { type Matcher, type MatchType, newMatcher, parseDuration } from '@promstream/storage';
import { EngineError } from '../engine-types.js';
import {
  type AggregateOp,
  type AtModifier,
  type BinaryOp,
  COMPARISON_OPS,
  type DurationExpr,
  type Expr,
  SET_OPS,
  typeOf,
  type VectorMatching,
  type VectorSelector,
} from './ast.js';
import { FUNCTION_TYPES } from './function-types.js';
import { parseNumber, unquoteString } from './literals.js';

/**
 * Parses PromQL text into our AST through the lezer grammar Prometheus ships
 * for its UI, then type-checks it the way Prometheus' own parser does. Every
 * problem is an `EngineError` with code `bad_data`.
 */

function fail(msg: string): never {
  throw new EngineError('bad_data', msg);
}

function posOf(text: string, pos: number): string {
  let line = 1;
  let col = 1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return `${line}:${col}`;
}

const PRECEDENCE: Record<BinaryOp, number> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '>': 3,
  '<': 3,
  '>=': 3,
  '<=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  atan2: 5,
  '^': 6,
};

/** Builds `left op rhs` where `left` is the operand next to the operator, descending as precedence asks. */
function attach(left: Expr, op: BinaryOp, make: (l: Expr) => Expr): Expr {
  if (left.kind === 'binary') {
    const inner = PRECEDENCE[left.op];
    const outer = PRECEDENCE[op];
    if (outer > inner || (op === '^' && left.op === '^')) return { ...left, rhs: attach(left.rhs, op, make) };
  }
  // Unary minus binds like multiplication: only `^` binds tighter.
  if (left.kind === 'unary' && op === '^') return { ...left, expr: attach(left.expr, op, make) };
  return make(left);
}

/**
 * The node an `offset` or `@` written after an expression applies to. The
 * lezer grammar attaches the modifier to the whole preceding expression
 * (`a + b @ 1` as `(a + b) @ 1`), while PromQL binds it to the closest
 * operand, so it is pushed down through unary and binary operators.
 */
function modifierTarget(e: Expr): Expr {
  if (e.kind === 'matrixSelector') return e.selector;
  if (e.kind === 'unary') return modifierTarget(e.expr);
  if (e.kind === 'binary') return modifierTarget(e.rhs);
  return e;
}

/** Rewrites `2.` into `2.0` outside strings (the lezer grammar wants digits after a point). */
function fixTrailingPoints(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' && c !== '`' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === '#') {
      const j = text.indexOf('\n', i);
      const end = j < 0 ? text.length : j;
      out += text.slice(i, end);
      i = end;
      continue;
    }
    out += c;
    if (
      c === '.' &&
      /[0-9]/.test(text[i - 1] ?? '') &&
      !/[0-9]/.test(text[i + 1] ?? '') &&
      !/[a-zA-Z_:]/.test(precedingWordStart(text, i))
    )
      out += '0';
    i++;
  }
  return out;
}

/** The first character of the token that ends just before position i. */
function precedingWordStart(text: string, i: number): string {
  let j = i - 1;
  while (j >= 0 && /[a-zA-Z0-9_:]/.test(text[j] as string)) j--;
  return text[j + 1] ?? '';
}

class Converter {
  constructor(private readonly text: string) {}

  src(n: SyntaxNode): string {
    return this.text.slice(n.from, n.to);
  }

  children(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
    return out;
  }

  err(n: SyntaxNode, msg: string): never {
    return fail(`${posOf(this.text, n.from)}: parse error: ${msg}`);
  }

  expr(n: SyntaxNode): Expr {
    const name = n.type.name;
    switch (name) {
      case 'NumberDurationLiteral': {
        const text = this.src(n);
        return { kind: 'number', value: parseNumber(text), text };
      }
      case 'StringLiteral':
        return { kind: 'string', value: unquoteString(this.src(n)) };
      case 'VectorSelector':
        return this.vectorSelector(n);
      case 'MatrixSelector':
        return this.matrixSelector(n);
      case 'SubqueryExpr':
        return this.subquery(n);
      case 'ParenExpr': {
        const inner = this.children(n).find(
          (c) => c.type.isError === false && c.type.name !== '(' && c.type.name !== ')',
        );
        if (!inner) return this.err(n, 'empty parentheses');
        return { kind: 'paren', expr: this.expr(inner) };
      }
      case 'UnaryExpr': {
        const [opNode, inner] = this.children(n);
        if (!opNode || !inner) return this.err(n, 'bad unary expression');
        const op = this.src(opNode) === '-' ? '-' : '+';
        const e = this.expr(inner);
        // A sign on a number literal folds into the literal, as in Prometheus' parser.
        if (e.kind === 'number') return { kind: 'number', value: op === '-' ? -e.value : e.value };
        const t = typeOf(e);
        if (t !== 'scalar' && t !== 'vector')
          this.err(
            n,
            `unary expression only allowed on expressions of type scalar or instant vector, got "${t}"`,
          );
        return { kind: 'unary', op, expr: e };
      }
      case 'OffsetExpr':
        return this.offsetExpr(n);
      case 'StepInvariantExpr':
        return this.atExpr(n);
      case 'FunctionCall':
        return this.call(n);
      case 'AggregateExpr':
        return this.aggregate(n);
      case 'BinaryExpr':
        return this.binary(n);
      case 'AnchoredExpr':
      case 'SmoothedExpr':
        return this.err(n, `${name === 'AnchoredExpr' ? 'anchored' : 'smoothed'} modifier is not supported`);
      default:
        return this.err(n, `unexpected ${name}`);
    }
  }

  labelName(n: SyntaxNode): string {
    if (n.type.name === 'QuotedLabelName') {
      const s = n.firstChild;
      return s ? unquoteString(this.src(s)) : this.err(n, 'bad label name');
    }
    if (n.type.name === 'StringLiteral') return unquoteString(this.src(n));
    return this.src(n);
  }

  vectorSelector(n: SyntaxNode): VectorSelector {
    let metric = '';
    const matchers: Matcher[] = [];
    for (const c of this.children(n)) {
      if (c.type.name === 'Identifier') metric = this.src(c);
      else if (c.type.name === 'LabelMatchers') {
        for (const m of this.children(c)) {
          if (m.type.name === 'QuotedLabelName') {
            // A bare quoted string inside braces is the metric name (UTF-8 names).
            if (metric !== '') this.err(m, 'metric name must not be set twice');
            metric = this.labelName(m);
            continue;
          }
          if (m.type.name !== 'UnquotedLabelMatcher' && m.type.name !== 'QuotedLabelMatcher') continue;
          const [ln, op, val] = this.children(m);
          if (!ln || !op || !val) this.err(m, 'bad label matcher');
          const lname = this.labelName(ln);
          const type = this.src(op) as MatchType;
          const value = unquoteString(this.src(val));
          try {
            matchers.push(newMatcher(type, lname, value));
          } catch (e) {
            // The regex module words the error as Go does (`error parsing regexp: ...`).
            this.err(m, (e as Error).message);
          }
        }
      }
    }
    if (metric !== '') {
      if (matchers.some((m) => m.name === '__name__'))
        this.err(
          n,
          `metric name must not be set twice: "${metric}" or "${matchers.find((m) => m.name === '__name__')?.value}"`,
        );
      matchers.unshift(newMatcher('=', '__name__', metric));
    }
    if (!matchers.some((m) => !m.matches('')))
      this.err(n, 'vector selector must contain at least one non-empty matcher');
    return { kind: 'vectorSelector', name: metric, matchers, offset: null, at: null };
  }

  matrixSelector(n: SyntaxNode): Expr {
    const cs = this.children(n);
    const inner = cs[0];
    const dur = cs.find((c) => c.type.name === 'DurationExpr');
    if (!inner || !dur) return this.err(n, 'bad range selector');
    const e = this.expr(inner);
    if (e.kind !== 'vectorSelector') return this.err(n, 'ranges only allowed for vector selectors');
    if (e.offset !== null) return this.err(n, 'no offset modifiers allowed before range');
    if (e.at !== null) return this.err(n, 'no @ modifiers allowed before range');
    return { kind: 'matrixSelector', selector: e, range: this.duration(dur) };
  }

  subquery(n: SyntaxNode): Expr {
    const cs = this.children(n);
    const inner = cs[0];
    const durs = cs.filter((c) => c.type.name === 'DurationExpr');
    if (!inner || !durs[0]) return this.err(n, 'bad subquery');
    const e = this.expr(inner);
    const t = typeOf(e);
    if (t !== 'vector') this.err(n, `subquery is only allowed on instant vector, got ${t} instead`);
    return {
      kind: 'subquery',
      expr: e,
      range: this.duration(durs[0]),
      step: durs[1] ? this.duration(durs[1]) : null,
      offset: null,
      at: null,
    };
  }

  duration(n: SyntaxNode): DurationExpr {
    const name = n.type.name;
    const cs = this.children(n);
    if (name === 'NumberDurationLiteralInDurationContext') {
      const text = this.src(n);
      const exact = parseDuration(text.replace(/_/g, ''));
      const ms = exact ?? Math.round(parseNumber(text) * 1000);
      return { kind: 'dnum', ms, text };
    }
    if (name === 'DurationExpr' || name === 'OffsetDurationExpr') {
      const first = cs[0];
      if (!first) return this.err(n, 'empty duration');
      if (first.type.name === 'UnaryOp') {
        const inner = cs[1];
        if (!inner) return this.err(n, 'bad duration');
        return { kind: 'dunary', op: this.src(first) === '-' ? '-' : '+', expr: this.duration(inner) };
      }
      if (first.type.name === 'DurationStep') return { kind: 'dstep' };
      if (first.type.name === 'DurationRange') return { kind: 'drange' };
      if (first.type.name === 'DurationMinOf' || first.type.name === 'DurationMaxOf') {
        const args = cs.filter((c) => c.type.name === 'DurationExpr');
        if (args.length !== 2) return this.err(n, 'min_of and max_of take two durations');
        return {
          kind: 'dminmax',
          op: first.type.name === 'DurationMinOf' ? 'min_of' : 'max_of',
          lhs: this.duration(args[0] as SyntaxNode),
          rhs: this.duration(args[1] as SyntaxNode),
        };
      }
      if (first.type.name === '(') {
        const inner = cs[1];
        if (!inner) return this.err(n, 'bad duration');
        return { kind: 'dparen', expr: this.duration(inner) };
      }
      if (cs.length === 3 && first.type.name === 'DurationExpr') {
        const op = this.src(cs[1] as SyntaxNode) as '+' | '-' | '*' | '/' | '%' | '^';
        return { kind: 'dbin', op, lhs: this.duration(first), rhs: this.duration(cs[2] as SyntaxNode) };
      }
      if (cs.length === 1) {
        // Parentheses are anonymous tokens in the lezer tree: an inner node that starts
        // after its parent means the parent was `( ... )`.
        const inner = this.duration(first);
        return first.from > n.from ? { kind: 'dparen', expr: inner } : inner;
      }
    }
    return this.err(n, `unexpected ${name} in duration`);
  }

  offsetExpr(n: SyntaxNode): Expr {
    const cs = this.children(n);
    const inner = cs[0];
    const dur = cs.find((c) => c.type.name === 'OffsetDurationExpr');
    if (!inner || !dur) return this.err(n, 'bad offset');
    const e = this.expr(inner);
    const d = this.duration(dur);
    const target = modifierTarget(e);
    if (target.kind !== 'vectorSelector' && target.kind !== 'subquery')
      return this.err(
        n,
        'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
      );
    if (target.offset !== null) return this.err(n, 'offset may not be set multiple times');
    target.offset = d;
    return e;
  }

  atExpr(n: SyntaxNode): Expr {
    const cs = this.children(n);
    const inner = cs[0];
    const arg = cs[cs.length - 1];
    if (!inner || !arg) return this.err(n, 'bad @ modifier');
    const e = this.expr(inner);
    let at: AtModifier;
    const argNode = cs.find(
      (c) => c.type.name === 'NumberDurationLiteral' || c.type.name === 'AtModifierPreprocessors',
    );
    if (!argNode) return this.err(n, 'bad @ modifier');
    if (argNode.type.name === 'AtModifierPreprocessors') {
      at = this.src(argNode) === 'start' ? { kind: 'start' } : { kind: 'end' };
    } else {
      const v = parseNumber(this.src(argNode));
      if (!Number.isFinite(v)) return this.err(n, `timestamp out of bounds for @ modifier: ${v}`);
      at = { kind: 'time', ms: Math.round(v * 1000) };
    }
    const target = modifierTarget(e);
    if (target.kind !== 'vectorSelector' && target.kind !== 'subquery')
      return this.err(
        n,
        '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery',
      );
    if (target.at !== null) return this.err(n, '@ <timestamp> may not be set multiple times');
    target.at = at;
    return e;
  }

  callArgs(body: SyntaxNode): SyntaxNode[] {
    return this.children(body).filter(
      (c) => c.type.name !== '(' && c.type.name !== ')' && c.type.name !== ',',
    );
  }

  call(n: SyntaxNode): Expr {
    const [ident, body] = this.children(n);
    if (!ident || !body) return this.err(n, 'bad function call');
    const fname = this.src(ident);
    const ft = FUNCTION_TYPES.get(fname);
    if (!ft) return this.err(n, `unknown function with name "${fname}"`);
    const argNodes = this.callArgs(body);
    const args = argNodes.map((a) => this.expr(a));
    const min = ft.optional < 0 ? ft.args.length - 1 : ft.args.length - ft.optional;
    const max = ft.optional < 0 ? Number.POSITIVE_INFINITY : ft.args.length;
    if (args.length < min || args.length > max)
      this.err(
        n,
        `expected ${min === max ? min : `at least ${min}`} argument(s) in call to "${fname}", got ${args.length}`,
      );
    args.forEach((a, i) => {
      const want = ft.args[Math.min(i, ft.args.length - 1)] as string;
      const got = typeOf(a);
      // Prometheus points at the argument of the wrong type, not at the call.
      if (got !== want)
        this.err(
          argNodes[i] ?? n,
          `expected type ${typeName(want)} in call to function "${fname}", got ${typeName(got)}`,
        );
    });
    return { kind: 'call', func: fname, args };
  }

  aggregate(n: SyntaxNode): Expr {
    const cs = this.children(n);
    const opNode = cs.find((c) => c.type.name === 'AggregateOp');
    const mod = cs.find((c) => c.type.name === 'AggregateModifier');
    const body = cs.find((c) => c.type.name === 'FunctionCallBody');
    if (!opNode || !body) return this.err(n, 'bad aggregation');
    const op = this.src(opNode).toLowerCase() as AggregateOp;
    let grouping: string[] = [];
    let without = false;
    if (mod) {
      const [kw, labels] = this.children(mod);
      without = kw ? this.src(kw).toLowerCase() === 'without' : false;
      grouping = labels ? this.groupingLabels(labels) : [];
    }
    const argNodes = this.callArgs(body);
    const args = argNodes.map((a) => this.expr(a));
    const takesParam = ['topk', 'bottomk', 'count_values', 'quantile', 'limitk', 'limit_ratio'].includes(op);
    if (args.length !== (takesParam ? 2 : 1))
      this.err(
        n,
        `wrong number of arguments for aggregate expression provided, expected ${takesParam ? 2 : 1}, got ${args.length}`,
      );
    const expr = args[args.length - 1] as Expr;
    const param = takesParam ? (args[0] as Expr) : null;
    if (typeOf(expr) !== 'vector')
      this.err(
        argNodes[argNodes.length - 1] ?? n,
        `expected type instant vector in aggregation expression, got ${typeName(typeOf(expr))}`,
      );
    if (param) {
      const want = op === 'count_values' ? 'string' : 'scalar';
      if (typeOf(param) !== want)
        this.err(
          argNodes[0] ?? n,
          `expected type ${typeName(want)} in aggregation parameter, got ${typeName(typeOf(param))}`,
        );
    }
    return { kind: 'aggregate', op, expr, param, grouping, without, hasModifier: mod !== undefined };
  }

  groupingLabels(n: SyntaxNode): string[] {
    return this.children(n)
      .filter((c) => c.type.name === 'LabelName' || c.type.name === 'QuotedLabelName')
      .map((c) => this.labelName(c));
  }

  binary(n: SyntaxNode): Expr {
    const cs = this.children(n);
    const lhsNode = cs[0];
    const rhsNode = cs[cs.length - 1];
    const opNode = cs[1];
    if (!lhsNode || !rhsNode || !opNode || cs.length < 3) return this.err(n, 'bad binary expression');
    const op = this.src(opNode).toLowerCase() as BinaryOp;
    let returnBool = false;
    let matching: VectorMatching | null = null;
    for (const c of cs.slice(2, -1)) {
      if (c.type.name === 'BoolModifier') returnBool = true;
      else if (c.type.name === 'MatchingModifierClause') matching = this.matching(c);
      else if (c.type.name === 'FillModifier') this.err(c, 'fill modifiers are not supported');
    }
    const lhs = this.expr(lhsNode);
    const rhs = this.expr(rhsNode);
    const make = (left: Expr): Expr => this.checkBinary(n, op, left, rhs, returnBool, matching);
    // lezer attaches `@`/`offset` to the whole expression before it (`a + b @ 1 * 2` becomes
    // `((a + b) @ 1) * 2`); PromQL binds the modifier to `b`, so an operator that binds tighter
    // than the one inside moves down to `b`.
    if (lhsNode.type.name === 'StepInvariantExpr' || lhsNode.type.name === 'OffsetExpr')
      return attach(lhs, op, make);
    return make(lhs);
  }

  checkBinary(
    n: SyntaxNode,
    op: BinaryOp,
    lhs: Expr,
    rhs: Expr,
    returnBool: boolean,
    matchingIn: VectorMatching | null,
  ): Expr {
    let matching = matchingIn ? { ...matchingIn } : null;
    const lt = typeOf(lhs);
    const rt = typeOf(rhs);
    const isCmp = COMPARISON_OPS.has(op);
    const isSet = SET_OPS.has(op);
    if (returnBool && !isCmp) this.err(n, 'bool modifier can only be used on comparison operators');
    if (isCmp && lt === 'scalar' && rt === 'scalar' && !returnBool)
      this.err(n, 'comparisons between scalars must use BOOL modifier');
    if ((lt !== 'scalar' && lt !== 'vector') || (rt !== 'scalar' && rt !== 'vector'))
      this.err(n, `binary expression must contain only scalar and instant vector types`);
    if (isSet && (lt !== 'vector' || rt !== 'vector'))
      this.err(n, `set operator "${op}" not allowed in binary scalar expression`);
    if (matching && (lt !== 'vector' || rt !== 'vector'))
      this.err(n, 'vector matching only allowed between instant vectors');
    if (lt === 'vector' && rt === 'vector') {
      if (!matching)
        matching = {
          card: isSet ? 'many-to-many' : 'one-to-one',
          labels: [],
          on: false,
          explicit: false,
          include: [],
        };
      else if (isSet) {
        if (matching.card === 'many-to-one' || matching.card === 'one-to-many')
          this.err(n, `no grouping allowed for "${op}" operation`);
        matching.card = 'many-to-many';
      }
      if (matching.on) {
        for (const l of matching.include)
          if (matching.labels.includes(l))
            this.err(n, `label "${l}" must not occur in ON and GROUP clause at once`);
      }
    }
    return { kind: 'binary', op, lhs, rhs, returnBool, matching };
  }

  matching(n: SyntaxNode): VectorMatching {
    const cs = this.children(n);
    const kw = cs[0];
    const on = kw ? this.src(kw).toLowerCase() === 'on' : false;
    const groups = cs.filter((c) => c.type.name === 'GroupingLabels');
    const labels = groups[0] ? this.groupingLabels(groups[0]) : [];
    const g = cs.find((c) => c.type.name === 'GroupLeft' || c.type.name === 'GroupRight');
    const include = groups[1] ? this.groupingLabels(groups[1]) : [];
    const card = g ? (g.type.name === 'GroupLeft' ? 'many-to-one' : 'one-to-many') : 'one-to-one';
    return { card, labels, on, explicit: true, include };
  }
}

function typeName(t: string): string {
  switch (t) {
    case 'vector':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
    default:
      return t;
  }
}

/**
 * What Prometheus' lexer reports when the input ends inside parentheses or a
 * bracket (outside strings, comments and label braces), if anything.
 */
function unclosedAtEnd(text: string): string | undefined {
  let parens = 0;
  let bracket = false;
  let braces = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\' && c !== '`') i++;
    } else if (c === '#' && !braces) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (braces) braces = c !== '}';
    else if (c === '{') braces = true;
    else if (c === '(') parens++;
    else if (c === ')') parens--;
    else if (c === '[') bracket = true;
    else if (c === ']') bracket = false;
  }
  if (parens > 0) return 'unclosed left parenthesis';
  if (bracket) return 'unclosed left bracket';
  return undefined;
}

/** Parses a PromQL expression; throws `EngineError('bad_data')` on any syntax or type error. */
export function parseExpr(text: string): Expr {
  if (text.trim() === '') fail('1:1: parse error: no expression found in input');
  text = fixTrailingPoints(text);
  const tree = parser.parse(text);
  let bad: { from: number; name: string } | undefined;
  tree.iterate({
    enter(node) {
      if (bad) return false;
      if (node.type.isError) {
        bad = { from: node.from, name: node.name };
        return false;
      }
      return undefined;
    },
  });
  if (bad) {
    const near = text.slice(bad.from, bad.from + 10);
    // At the end of the input Prometheus' lexer names what is left open before the parser speaks.
    const open = near === '' ? unclosedAtEnd(text) : undefined;
    fail(
      `${posOf(text, bad.from)}: parse error: ${open ?? `unexpected ${near === '' ? 'end of input' : `"${near}"`}`}`,
    );
  }
  const top = tree.topNode.firstChild;
  if (!top) fail('1:1: parse error: no expression found in input');
  try {
    return new Converter(text).expr(top);
  } catch (e) {
    if (e instanceof EngineError) throw e;
    throw new EngineError('bad_data', `parse error: ${(e as Error).message}`, { cause: e });
  }
}
