import { describe, expect, it } from 'vitest';
import { goRegexToJs, newPromMatcher } from './regex.js';

describe('RE2 label matchers', () => {
  const m = (re: string) => newPromMatcher('=~', 'l', re);

  it('supports inline case-insensitive flags and groups', () => {
    expect(m('(?i)abc').matches('AbC')).toBe(true);
    expect(m('(?i:PRO).*').matches('production')).toBe(true);
    expect(m('.*?(?i:PRO).*').matches('xxProduction')).toBe(true);
    expect(m('a(?i:b)c').matches('aBc')).toBe(true);
    expect(m('a(?i:b)c').matches('aBC')).toBe(false);
    expect(m('(?i)[a-c]+').matches('AbC')).toBe(true);
  });

  it('anchors fully and lets . match newlines', () => {
    expect(m('b').matches('abc')).toBe(false);
    expect(m('a.c').matches('a\nc')).toBe(true);
    expect(newPromMatcher('!~', 'l', 'a|b').matches('c')).toBe(true);
  });

  it('translates RE2-only syntax', () => {
    expect(m('[[:digit:]]+').matches('123')).toBe(true);
    expect(m('\\Qa.b\\E').matches('a.b')).toBe(true);
    expect(m('\\Qa.b\\E').matches('axb')).toBe(false);
    expect(m('(?P<x>a)b').matches('ab')).toBe(true);
    expect(goRegexToJs('a\\z')).toBe('a$');
  });

  it('rejects what RE2 rejects', () => {
    expect(() => m('(a')).toThrow(SyntaxError);
    expect(() => m('(a)\\1')).toThrow(SyntaxError);
    expect(() => m('a(?=b)')).toThrow(SyntaxError);
    expect(() => m('[[:nope:]]')).toThrow(SyntaxError);
  });
});
