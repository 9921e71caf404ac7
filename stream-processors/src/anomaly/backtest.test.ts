import { Engine, MemoryQuerier } from '@promstream/query';
import { STALE_NAN } from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import { StreamError } from '../errors.js';
import { runBacktest } from './backtest.js';
import { anomalyConfig } from './config.js';
import { DAY_MS } from './model.js';
import type { SeriesEpisode } from './watcher.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5);

/** Two days of a daily gauge on two instances; instance b spikes at day 2 + 6h; a third series appears late. */
function history(): MemoryQuerier {
  const q = new MemoryQuerier();
  for (let t = T0; t < T0 + 2 * DAY_MS + 12 * 3_600_000; t += MIN) {
    const base = 50 + 20 * Math.sin((2 * Math.PI * (t - T0)) / DAY_MS) + ((t / MIN) % 5) * 0.2;
    q.appendFloat(
      [
        { name: '__name__', value: 'load' },
        { name: 'instance', value: 'a' },
      ],
      t,
      base,
    );
    const spike = t >= T0 + 2 * DAY_MS + 6 * 3_600_000 && t < T0 + 2 * DAY_MS + 6 * 3_600_000 + 3 * MIN;
    q.appendFloat(
      [
        { name: '__name__', value: 'load' },
        { name: 'instance', value: 'b' },
      ],
      t,
      spike ? base + 80 : base,
    );
    if (t > T0 + 2 * DAY_MS) {
      const v = t === T0 + 2 * DAY_MS + 2 * MIN ? STALE_NAN : base;
      q.appendFloat(
        [
          { name: '__name__', value: 'load' },
          { name: 'instance', value: 'c' },
        ],
        t,
        v,
      );
    }
  }
  return q;
}

describe('anomaly configuration', () => {
  it('takes defaults that watch node-exporter series', () => {
    const c = anomalyConfig(undefined);
    expect(c.model).toEqual({ intervalMs: MIN, warmupMs: 7 * DAY_MS, sensitivity: 1, maxGapMs: 30 * MIN });
    expect(c.queries.map((q) => q.name)).toContain('cpu_busy');
    expect(c.queries.find((q) => q.name === 'filesystem_free_bytes')?.model).toBe('trend');
  });
  it('lists every problem in one BAD_OPTIONS error', () => {
    let err: unknown;
    try {
      anomalyConfig({
        interval: 'soon',
        sensitivity: -1,
        colour: 1,
        queries: { '9x': { expr: '', model: 'magic' } },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StreamError);
    expect((err as StreamError).code).toBe('BAD_OPTIONS');
    for (const part of [
      'unknown key "colour"',
      'interval: "soon"',
      'sensitivity: must be above 0',
      'queries.9x: a name',
      'queries.9x.expr',
      '"magic" is not one of',
    ]) {
      expect((err as Error).message).toContain(part);
    }
  });
});

describe('backtest', () => {
  const config = anomalyConfig({
    interval: '1m',
    training_window: '1d',
    queries: { load: 'load', broken: 'rate(load[5m]' },
  });

  it('prints the spike of instance b as one episode, and reports the query that fails', async () => {
    const episodes: SeriesEpisode[] = [];
    const failed: string[] = [];
    const report = await runBacktest({
      querier: history(),
      engine: new Engine(),
      config,
      from: T0,
      to: T0 + 2 * DAY_MS + 12 * 3_600_000 - MIN,
      emit: (e) => episodes.push(e),
      onQueryError: (q) => failed.push(q),
    });
    expect(failed).toEqual(['broken']);
    expect(report.series).toBe(3);
    const spike = T0 + 2 * DAY_MS + 6 * 3_600_000;
    const onB = episodes.filter((e) => e.labels.some((l) => l.name === 'instance' && l.value === 'b'));
    expect(onB).toHaveLength(1);
    expect(onB[0]!.start).toBe(spike);
    expect(onB[0]!.peakScore).toBeGreaterThan(1);
    expect(onB[0]!.actual - onB[0]!.expected).toBeGreaterThan(60);
    expect(onB[0]!.labels).toEqual([
      { name: '__name__', value: 'load' },
      { name: 'for', value: 'load' },
      { name: 'instance', value: 'b' },
    ]);
    expect(episodes.filter((e) => !onB.includes(e))).toEqual([]);
  });

  it('gives the same episodes whatever the chunking of the range', async () => {
    const run = async (maxSteps?: number) => {
      const out: SeriesEpisode[] = [];
      const to = T0 + 2 * DAY_MS + 12 * 3_600_000 - MIN;
      await runBacktest({
        querier: history(),
        engine: new Engine(),
        config,
        from: T0,
        to,
        maxSteps,
        emit: (e) => out.push(e),
      });
      return out;
    };
    const whole = await run();
    expect(whole.length).toBeGreaterThan(0);
    expect(await run(499)).toEqual(whole);
  });
});
