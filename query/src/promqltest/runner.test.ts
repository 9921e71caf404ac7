import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { announceSkip, repoRoot } from '@promstream/testkit';
import { describe, expect, it } from 'vitest';
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

describe('promqltest runner', () => {
  it('reports a wrong expectation as a failed case', async () => {
    const results = await runScript(
      'load 1m\n  m 1 2 3\n\neval instant at 2m m\n  m 4\n\neval instant at 2m m\n  m 3\n',
    );
    expect(results.map((r) => r.ok)).toEqual([false, true]);
  });

  for (const f of readdirSync(testdata).filter((x) => x.endsWith('.test'))) {
    it(`passes our own script ${f}`, async () => {
      const results = await runScript(readFileSync(join(testdata, f), 'utf8'));
      expect(results.length).toBeGreaterThan(0);
      expect(results.filter((r) => !r.ok)).toEqual([]);
    });
  }

  const must = baseline.mustPass
    .filter((n) => n.startsWith('promqltest/'))
    .map((n) => n.slice('promqltest/'.length));
  if (!existsSync(shared)) {
    announceSkip('promqltest conformance in vitest', `no Prometheus scripts at ${shared}`);
  } else {
    for (const f of must) {
      it(`passes Prometheus' ${f}`, async () => {
        const results = await runScript(readFileSync(join(shared, f), 'utf8'));
        expect(results.filter((r) => !r.ok)).toEqual([]);
      });
    }
  }
});
