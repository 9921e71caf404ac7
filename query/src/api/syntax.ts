import type { Matcher } from '@promstream/storage';
import { EngineError } from '../engine-types.js';
import type { Expr } from '../promql/ast.js';
import { parseExpr } from '../promql/parser.js';
import { parseTreeJson } from './parse-tree.js';
import type { PromqlSyntax } from './services.js';

/**
 * The API's parser services over the engine's PromQL parser. `format` is
 * given by the caller (the engine's pretty-printer) so this file depends
 * only on the parser.
 */
export function promqlSyntax(format: (e: Expr) => string): PromqlSyntax {
  return {
    parseSelector(text: string): Matcher[] {
      const e = parseExpr(text);
      if (e.kind !== 'vectorSelector') {
        throw new EngineError(
          'bad_data',
          `1:1: parse error: expected a series selector, got a ${describe(e)}`,
        );
      }
      if (e.offset !== null || e.at !== null) {
        throw new EngineError(
          'bad_data',
          '1:1: parse error: offset and @ are not allowed in a series selector',
        );
      }
      return e.matchers;
    },
    format: (text) => format(parseExpr(text)),
    parseTree: (text) => parseTreeJson(parseExpr(text)),
  };
}

function describe(e: Expr): string {
  switch (e.kind) {
    case 'matrixSelector':
      return 'range selector';
    case 'aggregate':
      return 'aggregation';
    case 'binary':
      return 'binary expression';
    case 'call':
      return 'function call';
    default:
      return `${e.kind} expression`;
  }
}
