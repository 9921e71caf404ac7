import { newMatcher } from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../engine-types.js';
import { MemoryQuerier } from '../memory-querier.js';
import type { Querier } from '../querier.js';
import { Engine } from './engine.js';
import { formatExpr } from './format.js';
import { parseExpr } from './parser.js';

function data(): MemoryQuerier {
  const q = new MemoryQuerier();
  for (let i = 0; i <= 10; i++) {
    q.appendFloat(
      [
        { name: '__name__', value: 'up' },
        { name: 'job', value: 'a' },
      ],
      i * 60_000,
      i,
    );
    q.appendFloat(
      [
        { name: '__name__', value: 'up' },
        { name: 'job', value: 'b' },
      ],
      i * 60_000,
      2 * i,
    );
  }
  return q;
}

describe('Engine', () => {
  it('evaluates an instant selector with lookback', async () => {
    const r = await new Engine().instantQuery(data(), 'up{job="a"}', 150_000);
    expect(r.value).toEqual({
      resultType: 'vector',
      result: [
        {
          metric: [
            { name: '__name__', value: 'up' },
            { name: 'job', value: 'a' },
          ],
          t: 150_000,
          f: 2,
        },
      ],
    });
  });

  it('evaluates a range query of an aggregation', async () => {
    const r = await new Engine().rangeQuery(data(), 'sum(up)', 0, 180_000, 60_000);
    expect(r.value.resultType).toBe('matrix');
    if (r.value.resultType !== 'matrix') return;
    expect([...(r.value.result[0]?.floats.f ?? [])]).toEqual([0, 3, 6, 9]);
  });

  it('rejects bad input with bad_data', async () => {
    for (const q of ['up{', 'sum(', '1 +', 'rate(up)', 'foo[5m] + 1', '"a" + 1', '']) {
      await expect(new Engine().instantQuery(data(), q, 0)).rejects.toMatchObject({ code: 'bad_data' });
    }
  });

  it("words parse errors as Prometheus 3.16 does: what is left open, and the operand's position", async () => {
    const cases: [string, string][] = [
      ['sum(up', '1:7: parse error: unclosed left parenthesis'],
      ['up{a="("}[5m', '1:13: parse error: unclosed left bracket'],
      [
        'rate(up)',
        '1:6: parse error: expected type range vector in call to function "rate", got instant vector',
      ],
      ['topk("a", up)', '1:6: parse error: expected type scalar in aggregation parameter, got string'],
      [
        'sum(up[5m])',
        '1:5: parse error: expected type instant vector in aggregation expression, got range vector',
      ],
    ];
    for (const [q, message] of cases)
      await expect(new Engine().instantQuery(data(), q, 0), q).rejects.toMatchObject({
        code: 'bad_data',
        message,
      });
  });

  it('stops at the sample limit', async () => {
    await expect(
      new Engine({ maxSamples: 5 }).instantQuery(data(), 'up[10m]', 600_000),
    ).rejects.toMatchObject({
      code: 'too_many_samples',
    });
  });

  it('times out with the injected clock', async () => {
    let now = 0;
    const engine = new Engine({ timeout: 10, now: () => (now += 100) });
    await expect(engine.instantQuery(data(), 'sum(up)', 0)).rejects.toMatchObject({ code: 'timeout' });
  });

  it('is cancelled by an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await new Engine().instantQuery(data(), 'up', 0, ac.signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('canceled');
  });

  it('is cancelled when the signal fires during evaluation', async () => {
    const ac = new AbortController();
    const inner = data();
    // The client goes away while the first selector is being read.
    const querier: Querier = {
      select: async (hints, matchers) => {
        ac.abort();
        return inner.select(hints, matchers);
      },
      labelNames: (h, m) => inner.labelNames(h, m),
      labelValues: (h, n, m) => inner.labelValues(h, n, m),
    };
    await expect(
      new Engine().rangeQuery(querier, 'sum(up) + sum(up)', 0, 600_000, 60_000, ac.signal),
    ).rejects.toMatchObject({
      code: 'canceled',
    });
  });

  it('matches RE2 inline flags', async () => {
    const r = await new Engine().instantQuery(data(), 'up{job=~"(?i)A"}', 60_000);
    expect(r.value.resultType === 'vector' && r.value.result.length).toBe(1);
    expect(newMatcher('=', 'a', 'b').matches('b')).toBe(true);
  });
});

describe('formatExpr', () => {
  it('prints a parsed expression back', () => {
    expect(formatExpr(parseExpr('sum by(job)(rate(up{job="a"}[5m] offset 1m))'))).toBe(
      'sum by (job) (rate(up{job="a"}[5m] offset 1m))',
    );
    expect(formatExpr(parseExpr('a + on(b) group_left(c) d'))).toBe('a + on (b) group_left (c) d');
  });
});
