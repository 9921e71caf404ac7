import { describe, expect, it } from 'vitest';
import { armedFaultPoints, type FaultReport, parseFaultSpec } from './fault-points.js';

describe('fault points from PROMSTREAM_FAULT', () => {
  it('parses a point with and without a hit count', () => {
    expect(parseFaultSpec('after-upload:3')).toEqual({ point: 'after-upload', hit: 3 });
    expect(parseFaultSpec('rebalance')).toEqual({ point: 'rebalance', hit: 1 });
  });

  it('refuses unknown points and hit counts below 1 with a config error naming the points', () => {
    for (const bad of ['after-upload:0', 'after-lunch', 'after-state:x', ''])
      expect(() => parseFaultSpec(bad)).toThrowError(
        expect.objectContaining({
          code: 'config_invalid',
          message: expect.stringContaining('mid-multipart'),
        }),
      );
  });

  it('fires on the armed hit of the armed point only, once', () => {
    const fired: FaultReport[] = [];
    const faults = armedFaultPoints({ point: 'after-state', hit: 2 }, (r) => fired.push(r));
    faults.reached('after-upload', { partition: 0 });
    faults.reached('after-state', { partition: 0 });
    expect(fired).toEqual([]);
    faults.reached('after-upload', { partition: 1 });
    faults.reached('after-state', { partition: 1 });
    faults.reached('after-state', { partition: 2 });
    expect(fired).toEqual([{ point: 'after-state', hit: 2, pid: process.pid, detail: { partition: 1 } }]);
  });
});
