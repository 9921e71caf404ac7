import { describe, expect, it } from 'vitest';
import { parseDuration, parseNonNegativeInt } from './parse.js';

describe('command-line parsers', () => {
  it('reads durations with a unit and refuses the rest', () => {
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(() => parseDuration('soon')).toThrow(/duration soon/);
    expect(() => parseDuration('0s')).toThrow(/duration 0s/);
  });

  it('reads whole numbers of 0 or more', () => {
    expect(parseNonNegativeInt('0')).toBe(0);
    expect(parseNonNegativeInt('268435456')).toBe(268_435_456);
    expect(() => parseNonNegativeInt('-1')).toThrow(/0 or more/);
    expect(() => parseNonNegativeInt('1.5')).toThrow(/0 or more/);
  });
});
