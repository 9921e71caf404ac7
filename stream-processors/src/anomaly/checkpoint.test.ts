import { describe, expect, it } from 'vitest';
import { StreamError } from '../errors.js';
import { decodeCheckpoint } from './checkpoint.js';
import { anomalyConfig } from './config.js';
import type { Scored } from './model.js';
import { QueryWatch } from './watcher.js';

const MIN = 60_000;
const out = (): Scored => ({ score: 0, yhat: 0, lower: 0, upper: 0 });

/** The golden checkpoint, written from the README's layout by hand, not by the encoder. */
function golden(): Uint8Array {
  const b = new Uint8Array(12 + 2 + (2 + 3 + 2 + 1) + (2 + 8 + 2 + 1) + 4 + 64 + 64);
  const dv = new DataView(b.buffer);
  b.set([0x50, 0x53, 0x41, 0x4e, 1, 4, 0, 0, 1, 0, 0, 0], 0); // "PSAN", v1, kind 4 = trend, count 1
  let at = 12;
  dv.setUint16(at, 2, true);
  at += 2;
  for (const s of ['for', 'q', 'instance', 'a']) {
    dv.setUint16(at, s.length, true);
    b.set(new TextEncoder().encode(s), at + 2);
    at += 2 + s.length;
  }
  dv.setUint32(at, 64, true);
  at += 4;
  // Holt after one point (t 60000, v 10): t0, last t, n, level, slope, scale, tail u, tail beta.
  for (const v of [MIN, MIN, 1, 10, 0, 0, 2.58, 0.35]) {
    dv.setFloat64(at, v, true);
    at += 8;
  }
  return b; // the tracker's 64 bytes stay 0: no episode
}

describe('anomaly checkpoint', () => {
  const trend = anomalyConfig({ training_window: '0', queries: { q: { expr: 'x', model: 'trend' } } });
  const combined = anomalyConfig({ training_window: '1h', queries: { q: 'x' } });

  it('writes the golden bytes', () => {
    const w = new QueryWatch(trend.queries[0]!, trend.model, trend.closeAfter);
    w.observe([{ name: 'instance', value: 'a' }], MIN, 10, out());
    expect(w.checkpoint()).toEqual(golden());
  });

  it('resumes where it stopped: the same scores and episodes as an uninterrupted watch', () => {
    const labels = [{ name: 'instance', value: 'a' }];
    const value = (i: number) => 50 + 10 * Math.sin(i / 50) + (i % 7) * 0.3 + (i === 900 ? 40 : 0);
    const a = new QueryWatch(combined.queries[0]!, combined.model, combined.closeAfter);
    const oa = out();
    for (let i = 0; i < 600; i++) a.observe(labels, i * MIN, value(i), oa);
    const b = new QueryWatch(combined.queries[0]!, combined.model, combined.closeAfter);
    b.restore(a.checkpoint());
    const ob = out();
    const ea = [];
    const eb = [];
    for (let i = 600; i < 1200; i++) {
      ea.push(a.observe(labels, i * MIN, value(i), oa));
      eb.push(b.observe(labels, i * MIN, value(i), ob));
      expect(ob).toEqual(oa);
    }
    expect(eb).toEqual(ea);
    expect(ea.filter((e) => e !== undefined).length).toBeGreaterThan(0);
  });

  it('refuses what it did not write with STATE_FORMAT', () => {
    const g = golden();
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof StreamError ? e.code : 'other';
      }
      return 'none';
    };
    expect(code(() => decodeCheckpoint(g.subarray(0, 30)))).toBe('STATE_FORMAT');
    const wrongMagic = g.slice();
    wrongMagic[0] = 0;
    expect(code(() => decodeCheckpoint(wrongMagic))).toBe('STATE_FORMAT');
    const v2 = g.slice();
    v2[4] = 2;
    expect(code(() => decodeCheckpoint(v2))).toBe('STATE_FORMAT');
    const extra = new Uint8Array(g.length + 1);
    extra.set(g);
    expect(code(() => decodeCheckpoint(extra))).toBe('STATE_FORMAT');
    const w = new QueryWatch(combined.queries[0]!, combined.model, combined.closeAfter);
    expect(code(() => w.restore(g))).toBe('STATE_FORMAT');
  });
});
