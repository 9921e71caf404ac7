import { seededRandom } from '@promstream/testkit';
import { describe, expect, it } from 'vitest';
import { formatLabels } from '../src/block/labels.js';
import { parseFloatToken } from '../src/block/text-numbers.js';
import { type TextParserOptions, TextSampleParser } from '../src/block/text-parser.js';

interface Out {
  samples: string[];
  parser: TextSampleParser;
}

/** Parses `text` fed in pieces cut at `cuts`, returning `{labels} t v` per sample. */
function parse(text: string, options: TextParserOptions = {}, cuts: number[] = []): Out {
  const bytes = Buffer.from(text, 'utf8');
  const parser = new TextSampleParser(options);
  const samples: string[] = [];
  const take = (): void => {
    while (parser.next()) {
      samples.push(`${formatLabels(parser.series.labels(parser.ref))} ${parser.t} ${parser.v}`);
    }
  };
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    parser.feed(bytes.subarray(at, c));
    take();
    at = c;
  }
  parser.end();
  take();
  return { samples, parser };
}

const OM = [
  '# HELP http_requests Requests.',
  '# TYPE http_requests counter',
  'http_requests_total{code="200",path="/a \\"q\\" \\\\ \\n é"} 1027 1700000000',
  'http_requests_total{path="/a \\"q\\" \\\\ \\n é",code="200"} 1028 1700000015.5',
  'up 1 1700000000.001 # {trace_id="x"} 1',
  'temp{host=""} -Inf 1700000030',
  'ratio NaN 1.7e9',
  '# EOF',
  '',
].join('\n');

describe('streaming text parser', () => {
  it('gives the same samples wherever the input is cut, one series per label set', () => {
    const whole = parse(OM);
    expect(whole.samples).toEqual([
      '{__name__="http_requests_total", code="200", path="/a \\"q\\" \\\\ \\n é"} 1700000000000 1027',
      '{__name__="http_requests_total", code="200", path="/a \\"q\\" \\\\ \\n é"} 1700000015500 1028',
      '{__name__="up"} 1700000000001 1',
      '{__name__="temp"} 1700000030000 -Infinity',
      '{__name__="ratio"} 1700000000000 NaN',
    ]);
    expect(whole.parser.format).toBe('openmetrics');
    expect(whole.parser.series.size).toBe(4);
    const bytes = Buffer.byteLength(OM);
    for (let i = 0; i <= bytes; i++) expect(parse(OM, {}, [i]).samples).toEqual(whole.samples);
    const random = seededRandom(7);
    for (let round = 0; round < 50; round++) {
      const cuts = [...new Set(Array.from({ length: 6 }, () => Math.floor(random() * bytes)))].sort(
        (a, b) => a - b,
      );
      expect(parse(OM, {}, cuts).samples, `cuts ${cuts}`).toEqual(whole.samples);
    }
  });

  it("reads Prometheus' text format with millisecond timestamps, detected or chosen", () => {
    const text = '# TYPE up gauge\nup{job="a"} 1 1700000000123\nup{job="a"} 0 1700000015123\n';
    const auto = parse(text);
    expect(auto.parser.format).toBe('prometheus');
    expect(auto.samples).toEqual([
      '{__name__="up", job="a"} 1700000000123 1',
      '{__name__="up", job="a"} 1700000015123 0',
    ]);
    // Small integer timestamps read as OpenMetrics seconds unless the format is chosen.
    const small = 'x 1 1000\n';
    expect(parse(small, { format: 'prometheus' }).samples).toEqual(['{__name__="x"} 1000 1']);
    expect(() => parse(small)).toThrow(/line 1: no # EOF line/);
    expect(parse(`${small}# EOF\n`).samples).toEqual(['{__name__="x"} 1000000 1']);
    expect(() => parse('up 1 1700000000.5\n', { format: 'prometheus' })).toThrow(
      'line 1: timestamp "1700000000.5" is not integer milliseconds',
    );
  });

  it('stops at the first bad line with its number and reason, or skips and counts them all', () => {
    const good = (i: number): string => `m{i="${i}"} ${i} ${1700000000 + i}`;
    const lines = ['bad line at start', ...Array.from({ length: 50 }, (_, i) => good(i))];
    lines.splice(26, 0, 'm{i="x" 1 1700000000');
    lines.push('m{i="z"} 1', '# EOF', 'after the end');
    const text = `${lines.join('\n')}\n`;
    expect(() => parse(text)).toThrow(
      expect.objectContaining({ code: 'invalid_argument', message: 'line 1: value "line" is not a number' }),
    );
    const skipped = parse(text, { skipBadLines: true }, [100, 1000]);
    expect(skipped.samples.length).toBe(50);
    expect(skipped.parser.badLines).toBe(4);
    expect(skipped.parser.firstBadLines).toEqual([
      { line: 1, reason: 'value "line" is not a number' },
      { line: 27, reason: 'expected , or } at column 8' },
      { line: 53, reason: 'sample has no timestamp (backfilling needs one)' },
      { line: 55, reason: 'content after # EOF' },
    ]);
    expect(() => parse('m 1 2\n{x="y"} 1 2\n# EOF\n')).toThrow('line 2: expected a metric name');
    expect(() => parse('m{a="1",a="2"} 1 2\n# EOF\n')).toThrow('line 1: label a appears twice');
    expect(() => parse('m{a="\\t"} 1 2\n# EOF\n')).toThrow('line 1: escape \\t is not valid');
    expect(() => parse('m 1 2 3\n# EOF\n')).toThrow('line 1: unexpected text after the timestamp');
    expect(() => parse('m 1 2\n')).toThrow('line 1: no # EOF line at the end of OpenMetrics input');
  });

  it('refuses a line longer than the limit without holding it, and goes on', () => {
    const long = `m{a="${'x'.repeat(5000)}"} 1 2`;
    const text = `m 1 1\n${long}\nm 2 3\n# EOF\n`;
    const r = parse(text, { skipBadLines: true, maxLineBytes: 1024 }, [10, 700, 2000, 4000]);
    expect(r.samples).toEqual(['{__name__="m"} 1000 1', '{__name__="m"} 3000 2']);
    expect(r.parser.firstBadLines).toEqual([{ line: 2, reason: 'line is longer than 1024 bytes' }]);
    expect(() => parse(text, { maxLineBytes: 1024 })).toThrow('line 2: line is longer than 1024 bytes');
  });

  it('reads a last line without a newline and Windows line ends', () => {
    expect(parse('a 1 1\r\nb 2 2', { format: 'prometheus' }, [3]).samples).toEqual([
      '{__name__="a"} 1 1',
      '{__name__="b"} 2 2',
    ]);
  });
});

describe('text numbers', () => {
  it('reads decimals exactly as Number() does, on the fast path and off it', () => {
    const random = seededRandom(5);
    const cases = [
      '0',
      '-0',
      '-0.0',
      '1.',
      '.5',
      '+3',
      '007.250',
      '123456789012345',
      '1234567890123456',
      '9007199254740993',
    ];
    for (let i = 0; i < 20_000; i++) {
      const digits = 1 + Math.floor(random() * 18);
      let d = '';
      for (let k = 0; k < digits; k++) d += Math.floor(random() * 10);
      const dot = Math.floor(random() * (digits + 1));
      cases.push(`${random() < 0.3 ? '-' : ''}${d.slice(0, dot)}.${d.slice(dot)}`);
      cases.push(String(random() * 10 ** Math.floor(random() * 30 - 10)));
    }
    for (const c of cases) {
      const b = Buffer.from(c);
      expect(Object.is(parseFloatToken(b, 0, b.length), Number(c)), c).toBe(true);
    }
    for (const bad of ['', '-', '.', '1.2.3', '1e', 'abc', '0x']) {
      expect(parseFloatToken(Buffer.from(bad), 0, bad.length), bad).toBeUndefined();
    }
  });
});
