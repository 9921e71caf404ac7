import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { buildProgram } from '../cli/main.js';
import { loadConfig, objectStoreUrl } from './config.js';
import { configDocTable } from './doc.js';
import { ConfigError } from './errors.js';
import { printConfig } from './print.js';
import { addConfigFlags, loadRoleConfig } from './role-support.js';
import {
  CONFIG_ROLES,
  type ConfigRole,
  flagAttribute,
  roleSettings,
  SETTINGS,
  type Setting,
} from './schema.js';
import { tenantLimits } from './tenant-limits.js';

function yamlFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'promstream-config-')), 'promstream.yaml');
  writeFileSync(file, text);
  return file;
}

/** A YAML document setting one dotted key. */
function yamlOf(key: string, value: unknown): string {
  const doc: Record<string, unknown> = {};
  let node = doc;
  const parts = key.split('.');
  for (const p of parts.slice(0, -1)) node = node[p] = {} as Record<string, unknown>;
  node[parts.at(-1)!] = value;
  return stringify(doc);
}

/** Three distinct valid values of a setting (as written in a source) and what each loads as. */
function samples(s: Setting): { text: string; loaded: unknown }[] {
  const n = [1, 2, 3];
  switch (s.kind) {
    case 'port':
      return n.map((i) => ({ text: String(40_000 + i), loaded: 40_000 + i }));
    case 'int':
    case 'number':
      return n.map((i) => ({ text: String((s.min ?? 0) + i + 1), loaded: (s.min ?? 0) + i + 1 }));
    case 'bytes':
      return n.map((i) => ({ text: `${i + 1}MiB`, loaded: (i + 1) * 1024 ** 2 }));
    case 'duration':
      // Minutes where hours would pass the setting's bound.
      return s.max !== undefined && s.max < 4 * 3_600_000
        ? n.map((i) => ({ text: `${i + 1}m`, loaded: (i + 1) * 60_000 }))
        : n.map((i) => ({ text: `${i + 1}h`, loaded: (i + 1) * 3_600_000 }));
    case 'level':
      return ['debug', 'warn', 'error'].map((l) => ({ text: l, loaded: l }));
    case 'url':
      return n.map((i) => ({ text: `http://host-${i}:${i}`, loaded: `http://host-${i}:${i}` }));
    case 'store-url':
      return n.map((i) => ({ text: `file:///store-${i}`, loaded: `file:///store-${i}` }));
    case 'brokers':
      return n.map((i) => ({ text: `b${i}:${i},c${i}:${i}`, loaded: [`b${i}:${i}`, `c${i}:${i}`] }));
    case 'pairs':
      return n.map((i) => ({
        text: `job${i}=http://h:${i}/metrics`,
        loaded: [`job${i}=http://h:${i}/metrics`],
      }));
    case 'path':
      return n.map((i) => ({ text: `/tmp/p${i}`, loaded: `/tmp/p${i}` }));
    default:
      return n.map((i) => ({ text: `value-${i}`, loaded: `value-${i}` }));
  }
}

function valueAt(config: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, p) => (node as Record<string, unknown>)[p], config);
}

/** The real command of a role (or of its first sub-command, for import, deadletter and block). */
function roleCommand(role: ConfigRole): Command {
  const top = buildProgram().commands.find((c) => c.name() === role);
  if (top === undefined) throw new Error(`no command ${role}`);
  return top.commands.length > 0 ? top.commands[0]! : top;
}

/** Parses flags into a role's real command and loads its configuration. */
function load(role: ConfigRole, argv: string[], env: Record<string, string>, file?: string) {
  const cmd = roleCommand(role);
  cmd.parseOptions([...(file === undefined ? [] : ['--config', file]), ...argv]);
  return loadRoleConfig(cmd, role, env);
}

describe('loadConfig', () => {
  test('defaults describe the all-in-one with data under ./data', () => {
    const config = loadConfig({ env: {} });
    expect(config.dataDir).toBe(path.resolve('data'));
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.blockBuilder.blockDuration).toBe(7_200_000);
    expect(config.query.port).toBe(9090);
    expect(objectStoreUrl(config)).toBe(`file://${path.resolve('data', 'blocks')}`);
  });

  test('never reads process.env unless given it', () => {
    process.env.PROMSTREAM_QUERY_PORT = '1234';
    try {
      expect(loadConfig({}).query.port).toBe(9090);
      expect(loadConfig({ env: process.env }).query.port).toBe(1234);
    } finally {
      delete process.env.PROMSTREAM_QUERY_PORT;
    }
  });

  test('every role lists a flag for each setting the schema gives it', () => {
    for (const role of CONFIG_ROLES) {
      const flags = new Set(roleCommand(role).options.map((o) => o.long));
      for (const s of roleSettings(role)) expect(flags, `${role} ${s.flag}`).toContain(s.flag!.split(' ')[0]);
    }
  });

  for (const role of CONFIG_ROLES)
    test(`${role}: the file, then the environment, then the flag wins, for each of its settings`, () => {
      for (const s of roleSettings(role)) {
        const flag = s.flag!.split(' ')[0]!;
        if (s.kind === 'bool') {
          // A flag of a boolean sets one value; the file and the variable set the other.
          const flagged = !flag.startsWith('--no-');
          const file = yamlFile(yamlOf(s.key, !flagged));
          expect(valueAt(load(role, [flag], { [s.env!]: String(!flagged) }, file), s.key), s.key).toBe(
            flagged,
          );
          expect(valueAt(load(role, [], { [s.env!]: String(flagged) }, file), s.key), s.key).toBe(flagged);
          expect(valueAt(load(role, [], {}, file), s.key), s.key).toBe(!flagged);
          continue;
        }
        const [f, e, c] = samples(s);
        const file = yamlFile(yamlOf(s.key, f!.text));
        const env = s.env === undefined ? {} : { [s.env]: e!.text };
        const argv = s.kind === 'pairs' ? [flag, c!.text] : [flag, c!.text];
        const resolve = (v: unknown) => (s.kind === 'path' ? path.resolve(String(v)) : v);
        expect(valueAt(load(role, argv, env, file), s.key), `${role} ${s.key} flag`).toEqual(
          resolve(c!.loaded),
        );
        if (s.env !== undefined)
          expect(valueAt(load(role, [], env, file), s.key), `${role} ${s.key} env`).toEqual(
            resolve(e!.loaded),
          );
        expect(valueAt(load(role, [], {}, file), s.key), `${role} ${s.key} file`).toEqual(resolve(f!.loaded));
      }
    });

  test('the config file may also come from PROMSTREAM_CONFIG', () => {
    const file = yamlFile('registry:\n  port: 18081\n');
    expect(load('registry', [], { PROMSTREAM_CONFIG: file }).registry.port).toBe(18081);
  });

  test('reports every bad value at once, one line each naming the key and its source', () => {
    const file = yamlFile(
      'kafka:\n  brokers: [nohost]\nquery:\n  port: 70000\nblockBuilder:\n  blockDuration: soon\nbogus: 1\n',
    );
    let err: unknown;
    try {
      loadConfig({ file, env: { PROMSTREAM_OBJECT_STORE: 'ftp://x' }, flags: { 'agent.interval': '15' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect((err as ConfigError).code).toBe('config_invalid');
    expect(problems).toEqual(
      expect.arrayContaining([
        `bogus: unknown setting (in file ${file})`,
        `kafka.brokers: expected host:port, got "nohost" (from file ${file})`,
        `query.port: expected a port from 0 to 65535, got 70000 (from file ${file})`,
        expect.stringMatching(/^blockBuilder.blockDuration: expected a duration .* got "soon" \(from file/),
        expect.stringMatching(
          /^objectStore: scheme must be one of file, mem, s3.*\(from env PROMSTREAM_OBJECT_STORE\)$/,
        ),
        // A bare number is milliseconds: 15 is below the agent's one-second floor.
        expect.stringMatching(/^agent.interval: expected a duration from 1000 ms.*\(from flag --interval\)$/),
      ]),
    );
    expect(problems).toHaveLength(6);
    for (const p of problems) expect(p).not.toContain('\n');
  });

  test('an unknown section, a scalar where a section belongs and an unknown flag key are refused', () => {
    const file = yamlFile('qeury:\n  port: 1\ns3: yes\n');
    expect(() => loadConfig({ file, env: {}, flags: { 'query.prot': '1' } })).toThrowError(
      expect.objectContaining({
        problems: [
          `qeury: unknown setting (in file ${file})`,
          `s3: expected a mapping (in file ${file})`,
          'query.prot: unknown setting',
        ],
      }),
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
    expect(limits.window('anyone')).toEqual({ pastMs: 300_000, futureMs: 900_000 });
    expect(limits.window('backfill')).toEqual({ pastMs: 7_200_000, futureMs: 900_000 });
    expect(limits.window('clock-skew')).toEqual({ pastMs: 300_000, futureMs: 3_600_000 });
    expect(limits.rate('anyone')).toEqual({ samplesPerSecond: 100, burst: 1000 });
    expect(limits.rate('backfill')).toEqual({ samplesPerSecond: 500, burst: 1000 });
    expect(tenantLimits(config).rate('anyone')).toBeUndefined();
    expect(tenantLimits(config).rate('backfill')).toEqual({ samplesPerSecond: 500, burst: 5000 });
    expect(limits.window('constructor')).toEqual({ pastMs: 300_000, futureMs: 900_000 });
    expect(loadConfig({ env: {}, flags: { 'gateway.pastWindow': '1m' } }).gateway.pastWindow).toBe(60_000);
  });

  test('reports bad tenant settings by their path', () => {
    const file = yamlFile('gateway:\n  tenants:\n    a: { pastWindow: soon, colour: red }\n    b: 3\n');
    expect(() => loadConfig({ file, env: {} })).toThrowError(
      expect.objectContaining({
        problems: expect.arrayContaining([
          'gateway.tenants.a.pastWindow: expected a duration such as 10m, 1h, got "soon"',
          'gateway.tenants.a.colour: unknown setting',
          'gateway.tenants.b: expected a mapping',
        ]),
      }),
    );
  });

  test('a missing or malformed file is a config_file error', () => {
    expect(() => loadConfig({ file: '/nonexistent/promstream.yaml', env: {} })).toThrow(/read config file/);
    expect(() => loadConfig({ file: yamlFile('a: [1,'), env: {} })).toThrow(/parse config file/);
  });
});

describe('printConfig', () => {
  test('prints YAML the loader reads back, with the secret redacted', () => {
    const config = loadConfig({
      env: { S3_SECRET_ACCESS_KEY: 'very-secret', S3_ACCESS_KEY_ID: 'id-1', KAFKA_BROKERS: 'k:1' },
      flags: { 'query.port': 1234, 'gateway.tenantRate': 5 },
    });
    const text = printConfig(config);
    expect(text).not.toContain('very-secret');
    expect(text).toContain('secretAccessKey: <redacted>');
    expect(text).toContain('# agent.hostname: unset');
    const back = loadConfig({ file: yamlFile(text), env: {} });
    expect({ ...back, s3: { ...back.s3, secretAccessKey: 'very-secret' } }).toEqual(config);
  });
});

describe('docs/config.md', () => {
  test('lists every setting exactly as the schema says', () => {
    const doc = readFileSync(path.join(import.meta.dirname, '..', '..', 'docs', 'config.md'), 'utf8');
    // Regenerate the table with configDocTable() from ./doc.ts when a setting changes. The
    // formatter pads the columns, so cells are compared without their padding.
    const cells = (text: string) => text.replace(/[ \t]*\|[ \t]*/g, '|').replace(/-{3,}/g, '---');
    expect(cells(doc)).toContain(cells(configDocTable()));
    for (const s of SETTINGS) expect(cells(doc)).toContain(`|\`${s.key}\`|`);
  });
});

describe('addConfigFlags', () => {
  test('takes Thanos-style dotted flags such as --query.auto-downsampling', () => {
    expect(load('query', [], {}).query.autoDownsampling).toBe(false);
    expect(load('query', ['--query.auto-downsampling'], {}).query.autoDownsampling).toBe(true);
    expect(load('query', [], { PROMSTREAM_QUERY_AUTO_DOWNSAMPLING: 'true' }).query.autoDownsampling).toBe(
      true,
    );
  });

  test('flags carry no commander default, so the file and the environment are not overridden', () => {
    const cmd = addConfigFlags(new Command('agent'), 'agent');
    cmd.parseOptions([]);
    for (const s of roleSettings('agent'))
      expect(cmd.getOptionValueSource(flagAttribute(s.flag!)), s.key).not.toBe('cli');
    expect(load('agent', [], { PROMSTREAM_AGENT_KERNEL_LOG: 'false' }).agent.kernelLog).toBe(false);
  });
});
