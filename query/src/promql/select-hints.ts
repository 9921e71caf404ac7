import type { Expr, VectorSelector } from './ast.js';

/**
 * The function hint of every selector of a query: the name of the innermost
 * function call or aggregation around it, or `''` when a binary operator
 * comes first (Prometheus' `extractFuncFromPath`). Parentheses, unary
 * operators, range selectors and subqueries pass the hint through. The block
 * querier picks the aggregate of downsampled data from it, as Thanos does.
 */
export function selectorFuncs(root: Expr): Map<VectorSelector, string> {
  const out = new Map<VectorSelector, string>();
  const walk = (e: Expr, func: string): void => {
    switch (e.kind) {
      case 'vectorSelector':
        out.set(e, func);
        return;
      case 'matrixSelector':
        out.set(e.selector, func);
        return;
      case 'paren':
      case 'unary':
      case 'subquery':
        walk(e.expr, func);
        return;
      case 'binary':
        walk(e.lhs, '');
        walk(e.rhs, '');
        return;
      case 'aggregate':
        if (e.param !== null) walk(e.param, e.op);
        walk(e.expr, e.op);
        return;
      case 'call':
        for (const a of e.args) walk(a, e.func);
        return;
      case 'number':
      case 'string':
        return;
    }
  };
  walk(root, '');
  return out;
}
