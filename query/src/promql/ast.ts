import type { Matcher } from '@promstream/storage';

/**
 * The PromQL syntax tree the evaluator runs on. It is built from the lezer
 * parse tree by `parser.ts` and type-checked there, so the evaluator can
 * trust the shapes it sees.
 */

/** The four value types of PromQL. */
export type ValueKind = 'scalar' | 'vector' | 'matrix' | 'string';

/** A duration that may depend on the query (`step()`, `range()`), in milliseconds once evaluated. */
export type DurationExpr =
  | { kind: 'dnum'; ms: number; text?: string }
  | { kind: 'dstep' }
  | { kind: 'drange' }
  | { kind: 'dunary'; op: '-' | '+'; expr: DurationExpr }
  | { kind: 'dbin'; op: '+' | '-' | '*' | '/' | '%' | '^'; lhs: DurationExpr; rhs: DurationExpr }
  | { kind: 'dminmax'; op: 'min_of' | 'max_of'; lhs: DurationExpr; rhs: DurationExpr }
  | { kind: 'dparen'; expr: DurationExpr };

/** The `@` modifier: a fixed time in milliseconds, or the query's start or end. */
export type AtModifier = { kind: 'time'; ms: number } | { kind: 'start' } | { kind: 'end' };

export interface NumberLiteral {
  kind: 'number';
  value: number;
  /** Source text, kept so durations print as written. */
  text?: string;
}

export interface StringLiteral {
  kind: 'string';
  value: string;
}

export interface VectorSelector {
  kind: 'vectorSelector';
  /** Metric name given before the braces, or empty. */
  name: string;
  matchers: Matcher[];
  offset: DurationExpr | null;
  at: AtModifier | null;
}

export interface MatrixSelector {
  kind: 'matrixSelector';
  selector: VectorSelector;
  range: DurationExpr;
}

export interface SubqueryExpr {
  kind: 'subquery';
  expr: Expr;
  range: DurationExpr;
  /** Null means the default evaluation interval (the query step, or one minute). */
  step: DurationExpr | null;
  offset: DurationExpr | null;
  at: AtModifier | null;
}

export interface Call {
  kind: 'call';
  func: string;
  args: Expr[];
}

/** Aggregation operators. */
export type AggregateOp =
  | 'sum'
  | 'avg'
  | 'count'
  | 'min'
  | 'max'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'count_values'
  | 'quantile'
  | 'limitk'
  | 'limit_ratio';

export interface AggregateExpr {
  kind: 'aggregate';
  op: AggregateOp;
  expr: Expr;
  param: Expr | null;
  grouping: string[];
  without: boolean;
  /** Whether `by`/`without` was written (so `sum by () (x)` prints as written). */
  hasModifier: boolean;
}

/** Binary operators. */
export type BinaryOp =
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '^'
  | 'atan2'
  | '=='
  | '!='
  | '>'
  | '<'
  | '>='
  | '<='
  | 'and'
  | 'or'
  | 'unless';

/** How the two sides of a vector operation are matched. */
export interface VectorMatching {
  card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** Labels of `on(...)` or `ignoring(...)`. */
  labels: string[];
  on: boolean;
  /** Whether `on`/`ignoring` was written at all. */
  explicit: boolean;
  /** Extra labels of `group_left(...)`/`group_right(...)`. */
  include: string[];
}

export interface BinaryExpr {
  kind: 'binary';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  returnBool: boolean;
  matching: VectorMatching | null;
}

export interface UnaryExpr {
  kind: 'unary';
  op: '-' | '+';
  expr: Expr;
}

export interface ParenExpr {
  kind: 'paren';
  expr: Expr;
}

/** Any PromQL expression. */
export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | Call
  | AggregateExpr
  | BinaryExpr
  | UnaryExpr
  | ParenExpr;

/** Comparison operators. */
export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set(['==', '!=', '>', '<', '>=', '<=']);
/** Set operators. */
export const SET_OPS: ReadonlySet<BinaryOp> = new Set(['and', 'or', 'unless']);

/** The value type an expression evaluates to. */
export function typeOf(e: Expr): ValueKind {
  switch (e.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'vectorSelector':
      return 'vector';
    case 'matrixSelector':
    case 'subquery':
      return 'matrix';
    case 'call':
      return functionReturnType(e.func);
    case 'aggregate':
      return 'vector';
    case 'binary':
      return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'unary':
    case 'paren':
      return typeOf(e.expr);
  }
}

function functionReturnType(name: string): ValueKind {
  if (name === 'time' || name === 'scalar' || name === 'pi') return 'scalar';
  return 'vector';
}
