import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type RunningRegistry, startRegistry } from '@promstream/schemas';
import { announceSkip, freePort, realKafka, repoRoot } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `promstream rules` as a command: the unit-test and check sub-commands with
// promtool's exit codes, and the role on real Kafka reloading on SIGHUP and
// stopping on SIGTERM.

const MAIN = path.join(repoRoot, 'infra', 'src', 'cli', 'main.ts');
const SCRIPT = `import(${JSON.stringify(MAIN)}).then((m) => m.main(process.argv.slice(1))).catch((e) => { console.error(e.message); process.exit(1); });`;
const NODE_ARGS = ['--conditions=@promstream/source', '--import', 'tsx', '-e', SCRIPT];
const TESTDATA = path.join(repoRoot, 'stream-processors', 'src', 'rules', 'testdata');

function promstream(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...NODE_ARGS, ...args], { cwd: repoRoot }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr });
    });
  });
}

describe('promstream rules test and check', () => {
  it('passes a passing unit-test file and fails a failing one, as promtool does', async () => {
    const ok = await promstream(['rules', 'test', path.join(TESTDATA, 'unit', 'pass-basic.yml')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('  SUCCESS\n');
    const bad = await promstream(['rules', 'test', path.join(TESTDATA, 'unit', 'fail-missing-alert.yml')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('  FAILED:\n    alertname: InstanceDown, time: 10m,');
  }, 60_000);

  it('checks rule files, naming the problem', async () => {
    const good = await promstream(['rules', 'check', path.join(TESTDATA, 'check', 'good-alerting.yml')]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('SUCCESS: 1 rules found');
    const bad = await promstream(['rules', 'check', path.join(TESTDATA, 'check', 'bad-promql.yml')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('could not parse expression');
  }, 60_000);
});

const kafka = realKafka();
if (!kafka.ok) announceSkip('promstream rules on real Kafka', kafka.reason);

describe.skipIf(!kafka.ok)('promstream rules on real Kafka', () => {
  const brokers = kafka.ok ? kafka.backend.brokers.join(',') : '';
  let dir: string;
  let registry: RunningRegistry;
  let child: ChildProcess;
  let url = '';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'promstream-cli-rules-'));
    registry = await startRegistry({
      brokers: brokers.split(','),
      port: await freePort(),
      topic: `_schemas-${randomUUID()}`,
    });
  });

  afterAll(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function ruleNames(): Promise<string[]> {
    const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string }[] }[] };
    };
    return body.data.groups.flatMap((g) => g.rules.map((r) => r.name));
  }

  async function until(f: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 150; i++) {
      if (await f().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('timed out');
  }

  it('serves its rules, reloads them on SIGHUP and stops on SIGTERM', async () => {
    const id = randomUUID();
    const file = path.join(dir, 'a.yml');
    await writeFile(file, 'groups:\n  - name: g\n    rules:\n      - record: one\n        expr: vector(1)\n');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(
      process.execPath,
      [
        ...NODE_ARGS,
        'rules',
        '--rules',
        path.join(dir, '*.yml'),
        '--port',
        String(port),
        '--brokers',
        brokers,
        '--registry',
        registry.url,
        '--store',
        `file://${path.join(dir, 'blocks')}`,
        '--topic',
        `rules-cli-samples-${id}`,
        '--derived-topic',
        `rules-cli-derived-${id}`,
        '--log-level',
        'warn',
      ],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await until(async () => (await ruleNames()).includes('one'));
    await writeFile(
      file,
      'groups:\n  - name: g\n    rules:\n      - record: one\n        expr: vector(1)\n      - record: two\n        expr: vector(2)\n',
    );
    child.kill('SIGHUP');
    await until(async () => (await ruleNames()).includes('two'));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000);
});
