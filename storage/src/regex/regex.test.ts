import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { StorageError, StorageErrorCode } from '../errors.js';
import { newMatcher } from '../model.js';
import { literalShape, requiredPrefix } from './literal-shape.js';
import { compileRegex } from './regex.js';

const m = (re: string) => compileRegex(re);

describe('compileRegex: RE2 syntax with Prometheus semantics', () => {
  it.each([
    ['(?i)abc', 'AbC', true],
    ['(?i:PRO).*', 'production', true],
    ['a(?i:b)c', 'aBc', true],
    ['a(?i:b)c', 'aBC', false],
    ['(?i)[a-c]+', 'AbC', true],
    ['(?i)k', '\u212a', true],
    ['\\pL+', 'héllo', true],
    ['\\p{Greek}+', 'αβγ', true],
    ['[[:alpha:]]+', 'abcXYZ', true],
    ['[[:^digit:]]+', 'abc', true],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['(?P<x>a)b', 'ab', true],
    ['(?<x>a)b', 'ab', true],
    ['a.c', 'a\nc', true],
    ['.', '😀', true],
    ['..', '😀', false],
    ['\\d+', '٣', false],
    ['\\w+', 'é', false],
    ['b', 'abc', false],
    ['a|b', 'ab', false],
    ['(?U)a+', 'a', true],
    ['\\Aab\\z', 'ab', true],
    ['', '', true],
    ['', 'a', false],
  ])('%s on %j is %s', (pattern, value, want) => {
    expect(m(pattern).matches(value)).toBe(want);
  });

  it.each([
    ['(a', 'error parsing regexp: missing closing ): `(a`'],
    ['a)', 'error parsing regexp: unexpected ): `a)`'],
    ['(a)\\1', 'error parsing regexp: invalid escape sequence: `\\1`'],
    ['a(?=b)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
    ['(?<=a)b', 'error parsing regexp: invalid named capture: `(?<=a)b`'],
    ['[[:nope:]]', 'error parsing regexp: invalid character class range: `[:nope:]`'],
    ['a{1001}', 'error parsing regexp: invalid repeat count: `{1001}`'],
    ['(a{1000}){1000}', 'error parsing regexp: invalid repeat count: `{1000}`'],
    ['\\C', 'error parsing regexp: invalid escape sequence: `\\C`'],
    ['*a', 'error parsing regexp: missing argument to repetition operator: `*`'],
  ])('rejects %s as Go does: %s', (pattern, message) => {
    let err: unknown;
    try {
      m(pattern);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe(StorageErrorCode.InvalidRegex);
    expect((err as StorageError).message).toBe(message);
  });

  it('gives capture groups by index and name', () => {
    const g = m('(?P<host>[^:]+):(\\d+)?').exec('web:80');
    expect(g?.groups).toEqual(['web:80', 'web', '80']);
    expect(g?.names.host).toBe(1);
    expect(m('(a)|(b)').exec('b')?.groups).toEqual(['b', undefined, 'b']);
    expect(m('a').exec('ab')).toBeUndefined();
    // A literal pattern compiles its automaton only when groups are asked for.
    expect(m('foo.*').exec('foobar')?.groups).toEqual(['foobar']);
  });

  it('builds matchers with it', () => {
    expect(newMatcher('=~', 'l', 'a.+').matches('abc')).toBe(true);
    expect(newMatcher('!~', 'l', 'a|b').matches('c')).toBe(true);
    expect(newMatcher('!~', 'l', 'a|b').matches('a')).toBe(false);
    expect(() => newMatcher('=~', 'l', '(')).toThrow(StorageError);
  });
});

describe('catastrophic patterns match in linear time', () => {
  const long = 'a'.repeat(50_000);
  it.each([
    ['(a+)+b', `${'a'.repeat(34)}!`],
    ['(a+)+b', `${long}!`],
    ['(a|aa)+$', `${long}!`],
    ['(.*a){20}', long],
    ['(a*)*b', long],
    ['(x+x+)+y', 'x'.repeat(50_000)],
    ['(\\w+\\s?)+$', `${'word '.repeat(10_000)}!`],
    ['^(([a-z])+.)+[A-Z]([a-z])+$', `${'aaaaaaaaaaaaaaaaaaaaaaaa'.repeat(1000)}!`],
    ['(?i)(a|a?)+b', long],
  ])('%s on %d characters', (pattern, value) => {
    const started = performance.now();
    m(pattern).matches(value);
    m(pattern).exec(value);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('fast paths', () => {
  it('recognizes the common shapes and nothing else', () => {
    expect(literalShape('foo')?.branches).toEqual([{ lits: ['foo'], gaps: [-1, -1] }]);
    expect(literalShape('/p1.*')?.branches).toEqual([{ lits: ['/p1'], gaps: [-1, 0] }]);
    expect(literalShape('.*foo.+')?.branches).toEqual([{ lits: ['foo'], gaps: [0, 1] }]);
    expect(literalShape('(?i)(Foo|bar\\.baz)')?.foldCase).toBe(true);
    expect(literalShape('.*')?.branches).toEqual([{ lits: [''], gaps: [0, -1] }]);
    for (const p of [
      'a*',
      'ab?',
      '[ab]',
      'a\\d',
      '.?',
      '.{2}',
      '(a)(b)',
      '(?s:a)',
      '.+.+',
      '\\pL',
      'a{2}',
      '^a',
    ])
      expect(literalShape(p), p).toBeUndefined();
    expect(requiredPrefix('2..')).toBe('2');
    expect(requiredPrefix('api-[0-9]+')).toBe('api-');
    expect(requiredPrefix('ab+c')).toBe('ab');
    expect(requiredPrefix('abc*')).toBe('ab');
    expect(requiredPrefix('ab|cd')).toBe('');
    expect(requiredPrefix('a[|]b')).toBe('');
    expect(requiredPrefix('\\.x?')).toBe('.');
  });

  // Every shape is checked against the automaton on values built to hit its edges.
  const patterns = [
    'foo',
    'foo|bar|',
    'foo.*',
    '.*foo',
    '.*foo.*',
    '.+foo.+',
    '.+foo',
    'foo.+',
    'foo.*bar',
    'foo.+bar',
    'ab.*ab',
    'a.*b.*c',
    'a.+b.+c',
    '.*',
    '.+',
    '',
    '(?i)foo.*',
    '(?i)(foo|BAR)',
    '(a|b.*)',
    '(?:x|.*y.*)',
    '\\.\\*.*\\+',
    'ab+c',
    '2..',
  ];
  const values = [
    '',
    'f',
    'foo',
    'FOO',
    'Foo',
    'foobar',
    'fooxbar',
    'barfoo',
    'xfoox',
    'xfoo',
    'foox',
    'ab',
    'aab',
    'abab',
    'abc',
    'axbxc',
    'abbc',
    'bar',
    'BAR',
    'x',
    'y',
    'zyz',
    '.*+',
    '.*x+',
    'a',
    'b',
    'bz',
    '200',
    '2',
    '20\n',
    '\n',
    'fo\no',
    'ſoo',
    'Kfoo',
  ];
  it.each(patterns)('%s agrees with the automaton', (pattern) => {
    const re = compileRegex(pattern);
    const automaton = RE2JS.compile(`(?s:${pattern})`);
    for (const v of values)
      expect(re.matches(v), `${pattern} on ${JSON.stringify(v)}`).toBe(automaton.testExact(v));
  });
});
