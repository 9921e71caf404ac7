import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig, objectStoreUrl } from './config.js';
import { ConfigError } from './errors.js';
import { tenantLimits } from './tenant-limits.js';

function yamlFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'promstream-config-')), 'promstream.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  test('defaults describe the all-in-one with data under ./data', () => {
    const config = loadConfig({ env: {} });
    expect(config.dataDir).toBe(path.resolve('data'));
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.blockBuilder.blockDuration).toBe(7_200_000);
    expect(objectStoreUrl(config)).toBe(`file://${path.resolve('data', 'blocks')}`);
  });

  test('the file, then the environment, then flags win', () => {
    const file = yamlFile(
      'kafka:\n  brokers: [a:1, b:2]\nblockBuilder:\n  blockDuration: 15m\nquery:\n  port: 9999\n',
    );
    const config = loadConfig({
      file,
      env: { KAFKA_BROKERS: 'k1:9092,k2:9092', S3_ENDPOINT: 'http://127.0.0.1:17070' },
      flags: { 'query.port': '9191' },
    });
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(config.blockBuilder.blockDuration).toBe(900_000);
    expect(config.query.port).toBe(9191);
    expect(config.s3.endpoint).toBe('http://127.0.0.1:17070');
  });

  test('reports every bad value at once, by its path', () => {
    const file = yamlFile(
      'kafka:\n  brokers: [nohost]\nquery:\n  port: 70000\nblockBuilder:\n  blockDuration: soon\nbogus: 1\n',
    );
    let err: unknown;
    try {
      loadConfig({ file, env: { PROMSTREAM_OBJECT_STORE: 'ftp://x' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect((err as ConfigError).code).toBe('config_invalid');
    expect(problems).toEqual(
      expect.arrayContaining([
        'bogus: unknown setting',
        'kafka.brokers[0]: expected host:port, got "nohost"',
        'query.port: expected a whole number from 0 to 65535, got 70000',
        expect.stringMatching(/^blockBuilder.blockDuration: expected a duration/),
        expect.stringMatching(/^objectStore: scheme must be one of file, mem, s3/),
      ]),
    );
  });

  test('gives each tenant of gateway.tenants its own rate and sample window', () => {
    const file = yamlFile(
      [
        'blockBuilder:',
        '  outOfOrderWindow: 5m',
        'gateway:',
        '  creationGracePeriod: 15m',
        '  tenants:',
        '    backfill: { pastWindow: 2h, samplesPerSecond: 500 }',
        '    clock-skew: { creationGracePeriod: 1h }',
        '',
      ].join('\n'),
    );
    const config = loadConfig({ file, env: {} });
    const limits = tenantLimits(config, { samplesPerSecond: 100, burst: 1000 });
    // The window into the past defaults to the block builder's out-of-order window.
    expect(limits.window('anyone')).toEqual({ pastMs: 300_000, futureMs: 900_000 });
    expect(limits.window('backfill')).toEqual({ pastMs: 7_200_000, futureMs: 900_000 });
    expect(limits.window('clock-skew')).toEqual({ pastMs: 300_000, futureMs: 3_600_000 });
    expect(limits.rate('anyone')).toEqual({ samplesPerSecond: 100, burst: 1000 });
    expect(limits.rate('backfill')).toEqual({ samplesPerSecond: 500, burst: 1000 });
    expect(tenantLimits(config).rate('anyone')).toBeUndefined();
    expect(tenantLimits(config).rate('backfill')).toEqual({ samplesPerSecond: 500, burst: 5000 });
    // A tenant named like an Object property gets nothing of it.
    expect(limits.window('constructor')).toEqual({ pastMs: 300_000, futureMs: 900_000 });
    expect(loadConfig({ env: {}, flags: { 'gateway.pastWindow': '1m' } }).gateway.pastWindow).toBe(60_000);
  });

  test('reports bad tenant settings by their path', () => {
    const file = yamlFile('gateway:\n  tenants:\n    a: { pastWindow: soon, colour: red }\n    b: 3\n');
    expect(() => loadConfig({ file, env: {} })).toThrow(ConfigError);
    try {
      loadConfig({ file, env: {} });
    } catch (err) {
      expect((err as ConfigError).problems).toEqual(
        expect.arrayContaining([
          'gateway.tenants.a.pastWindow: expected a duration such as 10m, 1h, got "soon"',
          'gateway.tenants.a.colour: unknown setting',
          'gateway.tenants.b: expected a mapping',
        ]),
      );
    }
  });

  test('a missing or malformed file is a config_file error', () => {
    expect(() => loadConfig({ file: '/nonexistent/promstream.yaml', env: {} })).toThrow(/read config file/);
    expect(() => loadConfig({ file: yamlFile('a: [1,'), env: {} })).toThrow(/parse config file/);
  });
});
