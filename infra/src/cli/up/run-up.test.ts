import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, test } from 'vitest';
import { loadRoleConfig } from '../../config/role-support.js';
import { upRole } from '../roles/up.js';
import { type UpOptions, upChildren } from './run-up.js';

const PORTS = { kafka: 19092, registry: 18081, gateway: 19091, query: 19090, agent: 19100, rules: 19095 };

function options(over: Partial<UpOptions> = {}): UpOptions {
  return {
    dataDir: '/var/lib/promstream',
    host: '127.0.0.1',
    port: 9090,
    kafkaPort: PORTS.kafka,
    registryPort: PORTS.registry,
    blockDurationMs: 7_200_000,
    outOfOrderWindowMs: 600_000,
    agent: true,
    logLevel: 'info',
    configFile: undefined,
    ...over,
  };
}

/** The value after `flag` in a role's arguments. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

describe('promstream up reads the one schema', () => {
  /** The config `promstream up <args>` would run with, from the role's own command. */
  function upConfig(args: string[], env: Record<string, string> = {}) {
    const program = new Command().exitOverride();
    const cmd = program.command('up');
    upRole.configure(cmd);
    cmd.action(() => undefined);
    program.parse(['up', ...args], { from: 'user' });
    return loadRoleConfig(cmd, 'up', env);
  }

  test('keeps the flag names and defaults it always had', () => {
    const c = upConfig([]);
    expect([c.dataDir, c.up.host, c.up.port, c.up.kafkaPort, c.up.registryPort, c.up.agent]).toEqual([
      path.resolve('data'),
      '127.0.0.1',
      9090,
      9092,
      8081,
      true,
    ]);
    expect([c.blockBuilder.blockDuration, c.blockBuilder.outOfOrderWindow, c.logLevel]).toEqual([
      7_200_000,
      600_000,
      'info',
    ]);
    const f = upConfig([
      '--data=/d',
      '--port=1',
      '--kafka-port=2',
      '--registry-port=3',
      '--no-agent',
      '--block-duration=1h',
      '--out-of-order-window=5m',
      '--log-level=warn',
    ]);
    expect([f.dataDir, f.up.port, f.up.kafkaPort, f.up.registryPort, f.up.agent]).toEqual([
      '/d',
      1,
      2,
      3,
      false,
    ]);
    expect([f.blockBuilder.blockDuration, f.blockBuilder.outOfOrderWindow, f.logLevel]).toEqual([
      3_600_000,
      300_000,
      'warn',
    ]);
  });

  test('takes its section from the environment, the flag winning', () => {
    const env = { PROMSTREAM_UP_REGISTRY_PORT: '18082', PROMSTREAM_UP_AGENT: 'false' };
    expect(upConfig([], env).up).toMatchObject({ registryPort: 18082, agent: false });
    expect(upConfig(['--registry-port', '18083'], env).up.registryPort).toBe(18083);
  });
});

describe('upChildren', () => {
  test('hands the durations to every role that places samples, in milliseconds', () => {
    const children = upChildren(
      options({ blockDurationMs: 3_600_000, outOfOrderWindowMs: 300_000 }),
      PORTS,
      'cli',
    );
    for (const name of ['block-builder', 'block-builder-derived', 'query', 'rules']) {
      const args = children.find((c) => c.name === name)!.args;
      expect(flagValue(args, '--block-duration'), name).toBe('3600000ms');
      expect(flagValue(args, '--out-of-order-window'), name).toBe('300000ms');
    }
    const gateway = children.find((c) => c.name === 'gateway')!.args;
    expect(flagValue(gateway, '--out-of-order-window')).toBe('300000ms');
  });

  test('gives every role the configuration file, and runs the agent only when asked', () => {
    const withFile = upChildren(options({ configFile: 'promstream.yaml' }), PORTS, 'cli');
    for (const child of withFile)
      expect(flagValue(child.args, '--config'), child.name).toBe('promstream.yaml');
    expect(withFile.map((c) => c.name)).toContain('agent');
    const plain = upChildren(options({ agent: false }), PORTS, 'cli');
    expect(plain.map((c) => c.name)).toEqual([
      'broker',
      'registry',
      'gateway',
      'block-builder',
      'compactor',
      'event-store',
      'query',
      'block-builder-derived',
      'rules',
    ]);
    for (const child of plain) expect(child.args, child.name).not.toContain('--config');
  });

  test('runs the rollups after the compactor only when a rollup config is given', () => {
    const children = upChildren(options({ agent: false, rollupConfig: 'rollups.yml' }), PORTS, 'cli');
    expect(children.map((c) => c.name)).toEqual([
      'broker',
      'registry',
      'gateway',
      'block-builder',
      'compactor',
      'event-store',
      'rollups',
      'query',
      'block-builder-derived',
      'rules',
    ]);
    const rollups = children.find((c) => c.name === 'rollups')!.args;
    expect(flagValue(rollups, '--rollup-config')).toBe('rollups.yml');
    expect(flagValue(rollups, '--brokers')).toBe(`127.0.0.1:${PORTS.kafka}`);
    // The block builder leaves out the series of keep_input: false rules.
    const builder = children.find((c) => c.name === 'block-builder')!.args;
    expect(flagValue(builder, '--rollup-config')).toBe('rollups.yml');
  });
});
