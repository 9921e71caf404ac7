import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { announceSkip, repoRoot } from '@promstream/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import type { QueryResult, QueryValue } from '../engine-types.js';
import { Engine } from '../promql/engine.js';
import type { Querier } from '../querier.js';
import { runConformance } from './conformance.js';
import { almostEqual, runScript } from './runner.js';
import { parseHistogram, parseSeriesValues } from './series.js';

const testdata = join(repoRoot, 'query', 'testdata');
const shared = process.env.PROMQLTEST_DIR ?? resolve(repoRoot, '..', 'shared', 'conformance', 'promqltest');
const baseline: { mustPass: string[] } = JSON.parse(
  readFileSync(join(testdata, 'conformance-baseline.json'), 'utf8'),
);

describe('promqltest series notation', () => {
  it('expands values, repeats, blanks and stale markers', () => {
    const pts = parseSeriesValues('1 2+3x2 _ -1-1x1 _x2 4x1 stale');
    const fs = pts.map((p) => (p === undefined ? '_' : 'f' in p ? (Number.isNaN(p.f) ? 'stale' : p.f) : 'h'));
    expect(fs).toEqual([1, 2, 5, 8, '_', -1, -2, '_', '_', 4, 4, 'stale']);
  });

  it('adds histogram increments bucket by bucket', () => {
    const pts = parseSeriesValues(
      '{{schema:0 sum:4 count:4 buckets:[1 2 1]}}+{{sum:2 count:1 buckets:[1] offset:1}}x1',
    );
    const h = pts[1];
    expect(h && 'h' in h ? [h.h.count, h.h.sum, ...h.h.positiveBuckets] : []).toEqual([5, 6, 1, 3, 1]);
    expect(
      parseHistogram('{{schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]}}').customValues,
    ).toEqual([5, 10]);
  });

  it('compares floats with a relative epsilon', () => {
    expect(almostEqual(1, 1 + 1e-9)).toBe(true);
    expect(almostEqual(1, 1.001)).toBe(false);
    expect(almostEqual(Number.NaN, Number.NaN)).toBe(true);
  });
});

/** Our engine with its answers altered after evaluation, to show the runner notices. */
class AlteredEngine extends Engine {
  constructor(private readonly alter: (v: QueryValue, kind: 'instant' | 'range') => QueryValue) {
    super();
  }
  override async instantQuery(q: Querier, expr: string, time: number): Promise<QueryResult> {
    const r = await super.instantQuery(q, expr, time);
    return { ...r, value: this.alter(r.value, 'instant') };
  }
  override async rangeQuery(
    q: Querier,
    expr: string,
    start: number,
    end: number,
    step: number,
  ): Promise<QueryResult> {
    const r = await super.rangeQuery(q, expr, start, end, step);
    return { ...r, value: this.alter(r.value, 'range') };
  }
}

async function outcome(script: string, engine?: Engine): Promise<(string | undefined)[]> {
  const results = await runScript(script, engine);
  expect(results.length).toBeGreaterThan(0);
  return results.map((r) => (r.ok ? undefined : (r.message ?? 'failed')));
}

describe('promqltest runner is as strict as Prometheus', () => {
  it('reports a wrong expectation as a failed case', async () => {
    const results = await runScript(
      'load 1m\n  m 1 2 3\n\neval instant at 2m m\n  m 4\n\neval instant at 2m m\n  m 3\n',
    );
    expect(results.map((r) => r.ok)).toEqual([false, true]);
  });

  const gauge = '{{schema:0 sum:1 count:1 buckets:[1] counter_reset_hint:gauge}}';
  const gaugeScript = `load 1m\n  h ${gauge}x2\n\neval instant at 1m h\n  h ${gauge}\n`;

  it('compares counter_reset_hint when the expectation names it', async () => {
    expect(await outcome(gaugeScript)).toEqual([undefined]);
    const unknownHint = new AlteredEngine((v) => {
      if (v.resultType === 'vector') for (const s of v.result) if (s.h) s.h = { ...s.h, counterResetHint: 0 };
      if (v.resultType === 'matrix')
        for (const s of v.result)
          s.histograms = s.histograms.map((p) => ({ ...p, h: { ...p.h, counterResetHint: 0 } }));
      return v;
    });
    expect((await outcome(gaugeScript, unknownHint))[0]).toMatch(/expected \{\{.*counter_reset_hint:gauge/);
    // Without a hint in the expectation any hint passes, as in Prometheus.
    expect(
      await outcome(gaugeScript.replace(/ counter_reset_hint:gauge\}\}\n$/, '}}\n'), unknownHint),
    ).toEqual([undefined]);
    // A rate is a gauge histogram whatever its input: the engine once answered "not a reset".
    const rate = `load 1m\n  c {{schema:0 sum:0 count:0 buckets:[0]}}+{{schema:0 sum:1 count:1 buckets:[1]}}x4\n\neval instant at 4m increase(c[4m])\n  {} {{schema:0 sum:4 count:4 buckets:[4] counter_reset_hint:gauge}}\n\neval instant at 4m increase(c[4m])\n  {} {{schema:0 sum:4 count:4 buckets:[4] counter_reset_hint:not_reset}}\n`;
    const [gaugeCase, notResetCase] = await outcome(rate);
    expect(gaugeCase).toBeUndefined();
    expect(notResetCase).toMatch(/expected/);
  });

  it('does not take a scalar for a {} series nor the reverse', async () => {
    const [scalarAsSeries, seriesAsScalar, both] = await outcome(
      'eval instant at 1m 1\n  {} 1\n\neval instant at 1m vector(1)\n  1\n\neval instant at 1m 1\n  1\n',
    );
    expect(scalarAsSeries).toMatch(/got scalar/);
    expect(seriesAsScalar).toMatch(/expected a scalar, got a vector/);
    expect(both).toBeUndefined();
    // A range query answers a matrix: a bare number never matches it.
    const [rangeScalar] = await outcome('eval range from 0 to 2m step 1m 1\n  1\n');
    expect(rangeScalar).toMatch(/expected a scalar, got a matrix/);
  });

  it('checks the time of every instant sample, scalar and range-vector point', async () => {
    const script =
      'load 1m\n  m 1 2 3\n\neval instant at 2m m\n  m 3\n\neval instant at 2m scalar(m)\n  3\n\neval instant at 2m m[2m]\n  expect range vector from 1m to 2m step 1m\n  m 2 3\n';
    expect(await outcome(script)).toEqual([undefined, undefined, undefined]);
    const shifted = new AlteredEngine((v, kind) => {
      if (kind === 'range') return v;
      if (v.resultType === 'vector') v.result = v.result.map((s) => ({ ...s, t: s.t + 1 }));
      if (v.resultType === 'scalar') v.result = { ...v.result, t: v.result.t + 1 };
      if (v.resultType === 'matrix')
        for (const s of v.result) s.floats = { t: s.floats.t.map((t) => t + 1000), f: s.floats.f };
      return v;
    });
    const [vector, scalar, matrix] = await outcome(script, shifted);
    expect(vector).toMatch(/sample at 120001, expected at 120000/);
    expect(scalar).toMatch(/scalar at 120001, expected at 120000/);
    expect(matrix).toMatch(/point 0 at 61000, expected at 60000/);
    // The expected grid is the one written: the same values one step early do not pass.
    const [early] = await outcome(
      'load 1m\n  m 1 2 3\n\neval instant at 2m m[2m]\n  expect range vector from 0 to 1m step 1m\n  m 2 3\n',
    );
    expect(early).toMatch(/expected/);
    // Several values for an instant query need the grid they stand on.
    await expect(runScript('load 1m\n  m 1 2 3\n\neval instant at 2m m[2m]\n  m 2 3\n')).rejects.toThrow(
      /expect range vector/,
    );
  });

  it('checks the order of eval_ordered and expect ordered answers', async () => {
    const script =
      'load 1m\n  m{a="x"} 1\n  m{a="y"} 2\n\neval_ordered instant at 0 sort_desc(m)\n  m{a="y"} 2\n  m{a="x"} 1\n\neval instant at 0 sort_desc(m)\n  expect ordered\n  m{a="y"} 2\n  m{a="x"} 1\n\neval_ordered instant at 0 sort_desc(m)\n  m{a="x"} 1\n  m{a="y"} 2\n\neval instant at 0 sort_desc(m)\n  m{a="x"} 1\n  m{a="y"} 2\n';
    const [ordered, expectOrdered, wrongOrder, unordered] = await outcome(script);
    expect(ordered).toBeUndefined();
    expect(expectOrdered).toBeUndefined();
    expect(wrongOrder).toMatch(/at position 1, expected at 2/);
    expect(unordered).toBeUndefined();
    const reversed = new AlteredEngine((v, kind) => {
      if (kind === 'instant' && v.resultType === 'vector') v.result = [...v.result].reverse();
      return v;
    });
    const [o1, o2] = await outcome(script, reversed);
    expect(o1).toMatch(/position/);
    expect(o2).toMatch(/position/);
  });

  it('requires matrices sorted by labels, in range queries and in the range check of instant ones', async () => {
    const script =
      'load 1m\n  m{a="x"} 1 1\n  m{a="y"} 2 2\n\neval range from 0 to 1m step 1m m\n  m{a="x"} 1 1\n  m{a="y"} 2 2\n\neval instant at 1m m\n  m{a="x"} 1\n  m{a="y"} 2\n';
    expect(await outcome(script)).toEqual([undefined, undefined]);
    const unsorted = new AlteredEngine((v) => {
      if (v.resultType === 'matrix') v.result = [...v.result].reverse();
      return v;
    });
    const [range, instant] = await outcome(script, unsorted);
    expect(range).toMatch(/matrix not sorted by labels/);
    expect(instant).toMatch(/as a range query: matrix not sorted by labels/);
    // An ordered expectation cannot be met by a matrix.
    const [orderedMatrix] = await outcome('load 1m\n  m 1 2\n\neval_ordered instant at 1m m[1m]\n');
    expect(orderedMatrix).toMatch(/ordered instant vector, got a matrix/);
  });

  it('runs an instant query again as a range query unless it answers a range vector or a string', async () => {
    // No expectation and no series: the instant answer matches, the range query of a range vector fails.
    const [bareMatrix] = await outcome('eval instant at 0 nothing[1m]\n');
    expect(bareMatrix).toMatch(/as a range query/);
    const [declared, str] = await outcome(
      'eval instant at 1m nothing[1m]\n  expect range vector from 0 to 1m step 1m\n\neval instant at 0 "a"\n  expect string "a"\n',
    );
    expect(declared).toBeUndefined();
    expect(str).toBeUndefined();
    const [otherString] = await outcome('eval instant at 0 "a"\n  expect string "b"\n');
    expect(otherString).toMatch(/expected string "b"/);
  });

  for (const f of readdirSync(testdata).filter((x) => x.endsWith('.test'))) {
    it(`passes our own script ${f}`, async () => {
      const results = await runScript(readFileSync(join(testdata, f), 'utf8'));
      expect(results.length).toBeGreaterThan(0);
      expect(results.filter((r) => !r.ok)).toEqual([]);
    });
  }
});

describe('conformance command', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  function setup(files: Record<string, string>): { shared: string; own: string } {
    const root = mkdtempSync(join(tmpdir(), 'promqltest-'));
    dirs.push(root);
    const shared = join(root, 'shared');
    const own = join(root, 'own');
    mkdirSync(shared);
    mkdirSync(own);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
    return { shared, own };
  }
  const ok = 'load 1m\n  m 1\n\neval instant at 0 m\n  m 1\n';

  it('passes when every must-pass file has cases and passes them', async () => {
    const d = setup({ 'shared/a.test': ok, 'own/b.test': ok });
    const log: string[] = [];
    const code = await runConformance({
      sharedDir: d.shared,
      ownDir: d.own,
      mustPass: ['promqltest/a.test', 'testdata/b.test'],
      ci: true,
      log: (l) => log.push(l),
    });
    expect(log).toContain('total: 2 passed, 0 failed');
    expect(code).toBe(0);
  });

  it('fails a must-pass file with zero cases, a failing case or no file', async () => {
    const d = setup({
      'shared/a.test': ok,
      'own/empty.test': 'load 1m\n  m 1\n',
      'own/bad.test': `${ok}  m 2\n`,
    });
    const log: string[] = [];
    const code = await runConformance({
      sharedDir: d.shared,
      ownDir: d.own,
      mustPass: ['promqltest/a.test', 'testdata/empty.test', 'testdata/bad.test', 'testdata/gone.test'],
      ci: true,
      log: (l) => log.push(l),
    });
    expect(code).toBe(1);
    expect(log).toContain('FAIL testdata/empty.test: must pass but has no cases');
    expect(log).toContain('FAIL testdata/bad.test: 1 failed');
    expect(log).toContain('FAIL testdata/gone.test: must pass but is missing');
  });

  it('fails in CI without the Prometheus scripts, and says so loudly outside CI', async () => {
    const d = setup({ 'own/b.test': ok });
    const missing = join(d.shared, 'nowhere');
    const options = { sharedDir: missing, ownDir: d.own, mustPass: ['promqltest/a.test', 'testdata/b.test'] };
    const ciLog: string[] = [];
    expect(await runConformance({ ...options, ci: true, log: (l) => ciLog.push(l) })).toBe(1);
    expect(ciLog.join('\n')).toMatch(/FAIL no Prometheus promqltest scripts at/);
    const localLog: string[] = [];
    expect(await runConformance({ ...options, ci: false, log: (l) => localLog.push(l) })).toBe(0);
    expect(localLog[0]).toMatch(/^!!! .*the Prometheus part of the conformance run was NOT run/);
    expect(localLog.at(-1)).toBe(localLog[0]);
    expect(ciLog.some((l) => l.startsWith('!!!'))).toBe(false);
  });
});

const must = baseline.mustPass
  .filter((n) => n.startsWith('promqltest/'))
  .map((n) => n.slice('promqltest/'.length));
const haveShared = existsSync(shared);
if (!haveShared)
  announceSkip("Prometheus' promqltest scripts", `no scripts at ${shared} (set PROMQLTEST_DIR)`);
describe.skipIf(!haveShared)("Prometheus' must-pass promqltest scripts", () => {
  for (const f of must) {
    it(`passes Prometheus' ${f}`, async () => {
      const results = await runScript(readFileSync(join(shared, f), 'utf8'));
      expect(results.length).toBeGreaterThan(0);
      expect(results.filter((r) => !r.ok)).toEqual([]);
    });
  }
});
