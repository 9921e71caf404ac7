import { describe, expect, it } from 'vitest';
import { parseExposition, parseSampleLine } from './parse.js';

describe('exposition parser', () => {
  it('parses text 0.0.4 with labels, escapes, special values and timestamps', () => {
    const text = [
      '# HELP http_requests_total Requests.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",path="/a\\"b\\\\c\\nd"} 1027 1395066363000',
      'http_requests_total{method="get"} 3',
      '# TYPE temp gauge',
      'temp NaN',
      'temp_max +Inf',
      '# TYPE rpc histogram',
      'rpc_bucket{le="0.5"} 3',
      'rpc_sum 1.5e+00',
    ].join('\n');
    const { families, samples } = parseExposition(text);
    expect(samples[0]).toEqual({
      name: 'http_requests_total',
      labels: { method: 'post', path: '/a"b\\c\nd' },
      value: 1027,
      timestamp: 1395066363000,
    });
    expect(families.find((f) => f.name === 'http_requests_total')?.type).toBe('counter');
    expect(families.find((f) => f.name === 'http_requests_total')?.samples).toHaveLength(2);
    expect(Number.isNaN(samples[2]!.value)).toBe(true);
    expect(samples[3]!.value).toBe(Number.POSITIVE_INFINITY);
    expect(samples[5]!.value).toBe(1.5);
  });

  it('reads OpenMetrics second timestamps and ignores exemplars and _created', () => {
    const s = parseSampleLine('foo_total{a="b"} 17 1520879607.789 # {trace_id="x"} 1 1520879607.7');
    expect(s.value).toBe(17);
    expect(s.timestamp).toBe(1520879607789);
    const { samples } = parseExposition('foo_total 1\nfoo_created 1520879607.7\n# EOF\n', true);
    expect(samples.map((x) => x.name)).toEqual(['foo_total']);
  });

  it('names the line it cannot read', () => {
    expect(() => parseExposition('ok 1\nbad{a="b" 2\n')).toThrowError(/line 2/);
    expect(() => parseExposition('x notanumber\n')).toThrowError(/line 1: invalid value/);
  });
});
