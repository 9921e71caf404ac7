import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  announceSkip,
  findTool,
  freePort,
  prometheusReference,
  repoRoot,
  waitForPort,
} from '@promstream/testkit';
import { afterAll, describe, expect, test } from 'vitest';

// `promstream up` on the embedded broker, as `npm start` runs it: Debian's
// Prometheus 2.42 (an older remote-write client) remote-writes to the one
// address, Prometheus 3.16's promtool queries the same address, and SIGTERM
// stops every role.

const run = promisify(execFile);
const prometheus = findTool('prometheus');
const reference = prometheusReference();
const promtool = reference.ok ? reference.backend.promtool : undefined;
const built = existsSync(path.join(repoRoot, 'infra', 'dist', 'cli', 'main.js'));
const reason = !built
  ? 'infra is not built (npm test builds it first)'
  : prometheus === undefined
    ? "Debian's prometheus is not installed (bash infra/scripts/debian-packages.sh)"
    : !reference.ok
      ? reference.reason
      : undefined;
if (reason !== undefined) announceSkip('promstream up end to end', reason);

describe.skipIf(reason !== undefined)('promstream up', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'promstream-up-'));
  let up: ChildProcess | undefined;
  let prom: ChildProcess | undefined;

  afterAll(() => {
    prom?.kill('SIGKILL');
    up?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('takes remote write and answers PromQL on one address, then stops on SIGTERM', async () => {
    const port = await freePort();
    const kafkaPort = await freePort();
    const registryPort = await freePort();
    let output = '';
    // A rule file of the default tenant: its recorded series must be queryable like any other.
    mkdirSync(path.join(dir, 'data', 'rules', 'anonymous'), { recursive: true });
    writeFileSync(
      path.join(dir, 'data', 'rules', 'anonymous', 'e2e.yml'),
      'groups:\n  - name: e2e\n    interval: 1s\n    rules:\n      - record: job:up:e2e\n        expr: sum by (job) (up{job="up-e2e"})\n',
    );
    up = spawn(
      process.execPath,
      [
        path.join(repoRoot, 'bin', 'promstream.js'),
        'up',
        '--data',
        path.join(dir, 'data'),
        '--port',
        String(port),
        '--kafka-port',
        String(kafkaPort),
        '--registry-port',
        String(registryPort),
        '--block-duration',
        '10s',
        '--out-of-order-window',
        '2s',
        '--no-agent',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    up.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    up.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => up!.once('exit', (code) => resolve(code)));
    await waitForPort('127.0.0.1', port, 90_000);
    // The banner is printed once the front listens; its bytes may reach the pipe a moment later.
    const banner = `remote write   http://127.0.0.1:${port}/api/v1/write`;
    for (let waited = 0; !output.includes(banner) && waited < 10_000; waited += 50)
      await new Promise((r) => setTimeout(r, 50));
    expect(output).toContain(banner);
    expect(output).toContain(`registry       http://127.0.0.1:${registryPort}`);

    const promPort = await freePort();
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: up-e2e',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${promPort}']`,
        'remote_write:',
        `  - url: http://127.0.0.1:${port}/api/v1/write`,
      ].join('\n'),
    );
    prom = spawn(
      prometheus!,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'prom')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 60_000;
    let answer = '';
    while (Date.now() < deadline) {
      const { stdout } = await run(promtool!, [
        'query',
        'instant',
        `http://127.0.0.1:${port}`,
        'up{job="up-e2e"}',
      ]).catch(() => ({ stdout: '' }));
      answer = stdout;
      if (answer.includes('up-e2e')) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(answer).toMatch(/up\{instance="127\.0\.0\.1:\d+", job="up-e2e"\} => 1 @/);

    // The rules role answers through the front, and its recorded series comes back through PromQL.
    const rules = (await (await fetch(`http://127.0.0.1:${port}/api/v1/rules`)).json()) as {
      data: { groups: { name: string }[] };
    };
    expect(rules.data.groups.map((g) => g.name)).toEqual(['e2e']);
    let recorded = '';
    while (Date.now() < deadline + 30_000) {
      const { stdout } = await run(promtool!, [
        'query',
        'instant',
        `http://127.0.0.1:${port}`,
        'job:up:e2e',
      ]).catch(() => ({ stdout: '' }));
      recorded = stdout;
      if (recorded.includes('up-e2e')) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(recorded).toMatch(/job:up:e2e\{job="up-e2e"\} => 1 @/);

    prom.kill('SIGTERM');
    up.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 180_000);
});
