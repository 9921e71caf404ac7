import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Runs the command line from source (no build needed), as `promstream <args>`. */
function promstream(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = path.join(repoRoot, 'infra', 'src', 'cli', 'main.ts');
  const script = `import(${JSON.stringify(main)}).then((m) => m.main(process.argv.slice(1))).catch((e) => { console.error(e.message); process.exit(1); });`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@promstream/source', '--import', 'tsx', '-e', script, ...args],
      { cwd: repoRoot, env: { ...process.env, PROMSTREAM_CONFIG: '' } },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr });
      },
    );
  });
}

const T0 = Date.UTC(2026, 0, 5) / 1000;
const SPIKE = 2 * 1440 + 360;
let dir: string;
let store: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'promstream-cli-anomaly-'));
  store = `file://${dir}/store`;
  // Three days of a daily gauge on two instances at 1m; instance b spikes for 3 minutes on day 3 at 06:00.
  const lines = ['# TYPE node_load1 gauge'];
  for (let i = 0; i < 3 * 1440; i++) {
    for (const inst of ['a', 'b']) {
      let v = 2 + Math.sin((2 * Math.PI * i) / 1440) + (i % 5) * 0.02;
      if (inst === 'b' && i >= SPIKE && i < SPIKE + 3) v += 5;
      lines.push(`node_load1{instance="${inst}"} ${v.toFixed(4)} ${T0 + i * 60}`);
    }
  }
  lines.push('# EOF');
  await writeFile(path.join(dir, 'load.om'), `${lines.join('\n')}\n`);
  const imported = await promstream([
    'import',
    'openmetrics',
    '--store',
    store,
    '--log-level',
    'warn',
    path.join(dir, 'load.om'),
  ]);
  expect(imported.code, imported.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('promstream anomaly backtest', () => {
  it('prints one JSON line for the spike and names the query that fails', async () => {
    const config = path.join(dir, 'watch.yaml');
    await writeFile(
      config,
      "interval: 1m\ntraining_window: 1d\nqueries:\n  load: node_load1\n  broken: 'rate(node_load1[5m]'\n",
    );
    const out = path.join(dir, 'episodes.jsonl');
    const r = await promstream([
      'anomaly',
      'backtest',
      '--config',
      config,
      '--store',
      store,
      '--from',
      '2026-01-05T00:00:00Z',
      '--to',
      '2026-01-07T23:59:00Z',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('query broken:');
    expect(r.stderr).toContain('2 series, 4320 evaluations, 1 episodes; failed queries: broken');
    const lines = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      query: 'load',
      labels: { __name__: 'node_load1', for: 'load', instance: 'b' },
      start: new Date((T0 + SPIKE * 60) * 1000).toISOString(),
      model: 'combined',
    });
    expect(lines[0].peak_score).toBeGreaterThan(1);
  }, 120_000);

  it('refuses a bad configuration with every problem named', async () => {
    const config = path.join(dir, 'bad.yaml');
    await writeFile(config, 'interval: soon\nqueries:\n  x: {model: magic}\n');
    const r = await promstream([
      'anomaly',
      'backtest',
      '--config',
      config,
      '--store',
      store,
      '--from',
      '0',
      '--to',
      '1000',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error BAD_OPTIONS: read anomaly configuration: interval: "soon" is not a duration',
    );
    expect(r.stderr).toContain('queries.x.model: "magic" is not one of');
  }, 120_000);
});
