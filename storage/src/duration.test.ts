import { describe, expect, it } from 'vitest';
import { parseDuration, parseDurationSetting } from './duration.js';

describe('parseDuration', () => {
  it('reads compound Prometheus durations, largest unit first', () => {
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('1y2w')).toBe(365 * 86_400_000 + 14 * 86_400_000);
    expect(parseDuration('1m1s1ms')).toBe(61_001);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('0s')).toBe(0);
  });

  it('refuses everything else', () => {
    for (const bad of ['', '2 hours', 'soon', '30m1h', '1h1h', '5', '1.5h', '-1m', 'h', '1H']) {
      expect(parseDuration(bad), bad).toBeUndefined();
    }
    expect(parseDuration(`${'9'.repeat(20)}y`)).toBeUndefined();
  });
});

describe('parseDurationSetting', () => {
  it('takes a duration or a plain number of milliseconds', () => {
    expect(parseDurationSetting('15m')).toBe(900_000);
    expect(parseDurationSetting(' 2h ')).toBe(7_200_000);
    expect(parseDurationSetting('2500')).toBe(2500);
    expect(parseDurationSetting('soon')).toBeUndefined();
    expect(parseDurationSetting('1.5h')).toBeUndefined();
  });
});
