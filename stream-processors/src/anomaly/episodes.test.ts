import { describe, expect, it } from 'vitest';
import { EpisodeTracker } from './episodes.js';

describe('episode tracker', () => {
  it('opens above 1, keeps the peak, closes after closeAfter normal points', () => {
    const tr = new EpisodeTracker('combined', 2);
    const scores = [0.5, 1.5, 3, 0.2, 2, 0.1, 0.1, 0.3];
    const closed = [];
    for (let i = 0; i < scores.length; i++) {
      const e = tr.observe(i, 100 + i, { score: scores[i]!, yhat: 50 + i, lower: 0, upper: 0 });
      if (e) closed.push({ at: i, e });
    }
    expect(closed).toEqual([
      {
        at: 6,
        e: { start: 1, end: 4, peakScore: 3, peakAt: 2, expected: 52, actual: 102, model: 'combined' },
      },
    ]);
    expect(tr.open).toBe(false);
    expect(tr.flush()).toBeUndefined();
  });
  it('flushes an open episode and restores from its state', () => {
    const tr = new EpisodeTracker('trend', 5);
    tr.observe(10, 7, { score: 4, yhat: 1, lower: 0, upper: 2 });
    const copy = new EpisodeTracker('trend', 5, tr.state.slice(0));
    expect(copy.open).toBe(true);
    expect(copy.flush()).toEqual({
      start: 10,
      end: 10,
      peakScore: 4,
      peakAt: 10,
      expected: 1,
      actual: 7,
      model: 'trend',
    });
  });
});
