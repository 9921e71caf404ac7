import { describe, expect, test } from 'vitest';
import { StreamError } from '../errors.js';
import { dropsInput, outputName, parseRollupConfig } from './config.js';

function refused(text: string): string {
  try {
    parseRollupConfig(text);
  } catch (err) {
    expect(err).toBeInstanceOf(StreamError);
    expect((err as StreamError).code).toBe('BAD_OPTIONS');
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('rollup config', () => {
  test('reads vmagent shape: one selector or a list, by/without sorted, quantiles with phis', () => {
    const [a, b] = parseRollupConfig(`
- match: 'http_requests_total{job="api"}'
  interval: 1m
  by: [path, code]
  outputs: [total, 'quantiles(0.5, 0.99)']
  keep_input: false
- name: gauges
  match: ['{__name__=~"mem_.*"}', cpu]
  interval: 30s
  without: [instance]
  staleness_interval: 5m
  outputs: [avg]
`);
    expect(a!.labels).toEqual(['code', 'path']);
    expect(a!.outputs).toEqual([
      { kind: 'total', phis: [] },
      { kind: 'quantiles', phis: [0.5, 0.99] },
    ]);
    expect(a!.stalenessMs).toBe(120_000);
    expect(outputName(a!, 'http_requests_total', 'total')).toBe('http_requests_total:1m_by_code_path_total');
    expect(outputName(b!, 'mem_used', 'avg')).toBe('mem_used:30s_without_instance_avg');
    expect(b!.match).toHaveLength(2);
    expect(b!.stalenessMs).toBe(300_000);
    const api = [
      { name: '__name__', value: 'http_requests_total' },
      { name: 'job', value: 'api' },
    ];
    expect(dropsInput([a!, b!], api)).toBe(true);
    expect(dropsInput([a!, b!], [{ name: '__name__', value: 'mem_used' }])).toBe(false);
  });

  test('an empty file is no rules', () => {
    expect(parseRollupConfig('')).toEqual([]);
  });

  test.each([
    ['- {match: x, interval: 1m, outputs: [sum]}', 'item 0: outputs: unknown output "sum"'],
    ['- {match: x, interval: 1m, outputs: [quantiles]}', 'quantiles needs its phis'],
    ['- {match: x, interval: 1m, outputs: ["quantiles(1.5)"]}', 'each quantile must be a number from 0 to 1'],
    ['- {match: x, interval: 1x, outputs: [min]}', 'interval: expected a positive duration'],
    [
      '- {match: x, interval: 1m, outputs: [min], by: [a], without: [b]}',
      'by and without cannot both be set',
    ],
    ['- {match: "rate(x[1m])", interval: 1m, outputs: [min]}', 'is not a series selector'],
    ['- {match: "x{", interval: 1m, outputs: [min]}', 'match: "x{"'],
    ['- {match: x, interval: 1m, outputs: [min], intervall: 2m}', 'unknown key intervall'],
    ['- {match: x, interval: 1m, outputs: [min], dedup_interval: 30s}', 'dedup_interval is not supported'],
    ['- {match: x, interval: 1m, outputs: [min, min]}', 'min is listed twice'],
    ['- {match: x, interval: 1m, outputs: [min], by: [__name__]}', 'do not list __name__'],
    ['- {match: x, interval: 1m, outputs: [min], staleness_interval: 10s}', 'at least the interval'],
    ['- {match: x, interval: 1m, outputs: [min], keep_input: "no"}', 'keep_input: expected true or false'],
    ['match: x', 'expected a YAML list of rules'],
    ['- [a', 'not YAML'],
  ])('refuses %s', (text, message) => {
    expect(refused(text)).toContain(message);
  });
});
