import { describe, expect, it } from 'vitest';
import { parseDurationFlag, parseNonNegativeInt } from './parse.js';

describe('command-line parsers', () => {
  it('reads durations with a unit and refuses the rest', () => {
    expect(parseDurationFlag('2m')).toBe(120_000);
    expect(parseDurationFlag('30s')).toBe(30_000);
    expect(parseDurationFlag('500ms')).toBe(500);
    expect(parseDurationFlag('1d')).toBe(86_400_000);
    expect(() => parseDurationFlag('soon')).toThrow(/duration soon/);
    expect(() => parseDurationFlag('0s')).toThrow(/duration 0s/);
  });

  it('reads whole numbers of 0 or more', () => {
    expect(parseNonNegativeInt('0')).toBe(0);
    expect(parseNonNegativeInt('268435456')).toBe(268_435_456);
    expect(() => parseNonNegativeInt('-1')).toThrow(/0 or more/);
    expect(() => parseNonNegativeInt('1.5')).toThrow(/0 or more/);
  });
});
