import { seededRandom } from '@promstream/testkit';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../engine-types.js';
import { MemoryQuerier } from '../memory-querier.js';
import { Engine } from './engine.js';
import { formatExpr } from './format.js';
import { parseExpr } from './parser.js';

/**
 * Fuzzing: random strings and random well-formed queries must never crash
 * the parser or the engine; every failure is an `EngineError` with a code.
 */

const TOKENS = [
  'sum',
  'rate',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  '5m',
  ':',
  '1m',
  ',',
  'by',
  'without',
  'job',
  '=',
  '=~',
  '!=',
  '!~',
  '"a"',
  '".*"',
  '"(?i)x"',
  'foo',
  'bar',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '==',
  '!=',
  '>',
  '<',
  'bool',
  'and',
  'or',
  'unless',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  '@',
  'start()',
  'end()',
  '1',
  '0.5',
  'Inf',
  'NaN',
  'topk',
  'quantile',
  'count_values',
  'histogram_quantile',
  'label_replace',
  'absent',
  'time()',
  '1e400',
  '0x1f',
  '`raw`',
  "'s'",
  '#c\n',
  'step()',
  'min_of',
  ' ',
  '\\',
  '"\\xff"',
  '[1m:]',
  '@ 100',
  'limitk',
  'limit_ratio',
];

function randomTokens(r: () => number): string {
  const n = 1 + Math.floor(r() * 12);
  let s = '';
  for (let i = 0; i < n; i++) s += `${TOKENS[Math.floor(r() * TOKENS.length)]} `;
  return s;
}

function randomChars(r: () => number): string {
  const n = Math.floor(r() * 30);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(r() * 128));
  return s;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

/** A random query that follows the grammar (it may still be ill-typed). */
function randomExpr(r: () => number, depth: number): string {
  const leaf = () =>
    pick(r, [
      'foo',
      'bar{job="a"}',
      'foo{job=~"a|b"}',
      '1',
      '-2.5',
      'time()',
      'vector(1)',
      'foo offset 1m',
      'bar @ 60',
    ]);
  if (depth <= 0) return leaf();
  const sub = () => randomExpr(r, depth - 1);
  switch (Math.floor(r() * 10)) {
    case 0:
      return `${pick(r, ['rate', 'increase', 'delta', 'irate', 'deriv', 'changes', 'resets', 'avg_over_time', 'max_over_time', 'quantile_over_time(0.5,'])}${pick(r, ['(', ''])}${pick(r, ['foo', 'bar'])}[${pick(r, ['1m', '5m', '30s'])}])`;
    case 1:
      return `${pick(r, ['sum', 'avg', 'min', 'max', 'count', 'stddev', 'group'])} ${pick(r, ['by (job)', 'without (job)', ''])} (${sub()})`;
    case 2:
      return `${sub()} ${pick(r, ['+', '-', '*', '/', '%', '^', '== bool', '>', 'and', 'or', 'unless', 'atan2'])} ${pick(r, ['', 'on (job)', 'ignoring (job)', 'on (job) group_left', 'ignoring (x) group_right (job)'])} ${sub()}`;
    case 3:
      return `${pick(r, ['topk', 'bottomk', 'limitk', 'quantile', 'limit_ratio'])}(${pick(r, ['2', '0.5', 'scalar(foo)', 'NaN'])}, ${sub()})`;
    case 4:
      return `${pick(r, ['abs', 'ceil', 'sqrt', 'ln', 'exp', 'sort', 'sort_desc', 'timestamp', 'absent', 'hour', 'histogram_count'])}(${sub()})`;
    case 5:
      return `max_over_time((${sub()})[${pick(r, ['5m', '10m'])}:${pick(r, ['1m', '', '30s'])}])`;
    case 6:
      return `label_replace(${sub()}, "dst", "$1", "job", "(.*)")`;
    case 7:
      return `histogram_quantile(${pick(r, ['0.9', '2', '-1'])}, ${sub()})`;
    case 8:
      return `-(${sub()})`;
    default:
      return `clamp(${sub()}, 0, 10)`;
  }
}

function data(): MemoryQuerier {
  const q = new MemoryQuerier();
  for (let i = 0; i < 20; i++) {
    for (const job of ['a', 'b']) {
      q.appendFloat(
        [
          { name: '__name__', value: 'foo' },
          { name: 'job', value: job },
        ],
        i * 30_000,
        i * (job === 'a' ? 1 : 3),
      );
      q.appendFloat(
        [
          { name: '__name__', value: 'bar' },
          { name: 'job', value: job },
        ],
        i * 30_000,
        100 - i,
      );
    }
  }
  return q;
}

async function assertEngineOutcome(engine: Engine, q: MemoryQuerier, text: string): Promise<void> {
  for (const run of [
    () => engine.instantQuery(q, text, 300_000),
    () => engine.rangeQuery(q, text, 0, 600_000, 60_000),
  ]) {
    try {
      const res = await run();
      expect(['vector', 'matrix', 'scalar', 'string']).toContain(res.value.resultType);
    } catch (e) {
      if (!(e instanceof EngineError)) throw new Error(`query ${JSON.stringify(text)} threw ${String(e)}`);
      expect(['bad_data', 'execution']).toContain(e.code);
    }
  }
}

describe('fuzz', () => {
  const engine = new Engine({ maxSamples: 1_000_000 });
  const q = data();

  it('random token soups give results or EngineErrors', async () => {
    const r = seededRandom(1);
    for (let i = 0; i < 600; i++) await assertEngineOutcome(engine, q, randomTokens(r));
  });

  it('random characters give results or EngineErrors', async () => {
    const r = seededRandom(2);
    for (let i = 0; i < 600; i++) await assertEngineOutcome(engine, q, randomChars(r));
  });

  it('random grammatical queries evaluate or fail with EngineErrors, and format round-trips', async () => {
    const r = seededRandom(3);
    let evaluated = 0;
    for (let i = 0; i < 400; i++) {
      const text = randomExpr(r, 3);
      await assertEngineOutcome(engine, q, text);
      let ast: ReturnType<typeof parseExpr> | undefined;
      try {
        ast = parseExpr(text);
      } catch (e) {
        expect(e).toBeInstanceOf(EngineError);
      }
      if (!ast) continue;
      evaluated++;
      // The formatted text parses to the same formatted text.
      const printed = formatExpr(ast);
      expect(formatExpr(parseExpr(printed))).toBe(printed);
    }
    // The generator is meant to produce mostly valid queries; make sure the test exercised evaluation.
    expect(evaluated).toBeGreaterThan(100);
  });
});
