import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBlocksFromOpenMetrics, FsObjectStore } from '@promstream/storage';
import { freePort, repoRoot, waitForPort } from '@promstream/testkit';
import { afterAll, describe, expect, it } from 'vitest';

/** Runs the command line from source (no build needed), as `promstream <args>`. */
function promstream(args: string[]): ChildProcess {
  const main = path.join(repoRoot, 'infra', 'src', 'cli', 'main.ts');
  const script = `import(${JSON.stringify(main)}).then((m) => m.main(process.argv.slice(1))).catch((e) => { console.error(e.message); process.exit(1); });`;
  return spawn(
    process.execPath,
    ['--conditions=@promstream/source', '--import', 'tsx', '-e', script, ...args],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('promstream query', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'promstream-query-role-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a bad --port and a bad --store with one line naming the setting', async () => {
    const bad = promstream(['query', '--store', `file://${dir}`, '--port', 'http']);
    let stderr = '';
    bad.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    expect(await exitOf(bad)).toBe(2);
    expect(stderr).toBe(
      'promstream query: configuration: query.port: expected a port from 0 to 65535, got "http" (from flag --port)\n',
    );
    const store = promstream(['query', '--store', 'ftp://x']);
    let err2 = '';
    store.stderr?.on('data', (d: Buffer) => {
      err2 += d.toString();
    });
    expect(await exitOf(store)).toBe(2);
    expect(err2).toContain('objectStore: scheme must be one of file, mem, s3');
  });

  it('serves PromQL over the blocks of a file:// store and stops on SIGTERM', async () => {
    const t0 = 1_767_225_600;
    await createBlocksFromOpenMetrics(
      `# TYPE jobs gauge\njobs{q="a"} 3 ${t0}\njobs{q="a"} 4 ${t0 + 60}\n# EOF\n`,
      new FsObjectStore(dir),
      'anonymous',
    );
    const port = await freePort();
    const child = promstream([
      'query',
      '--store',
      `file://${dir}`,
      '--port',
      String(port),
      '--cache-bytes',
      '0',
      '--query-timeout',
      '30s',
    ]);
    try {
      await waitForPort('127.0.0.1', port, 60_000);
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=jobs&time=${t0 + 60}`);
      expect(await res.json()).toEqual({
        status: 'success',
        data: {
          resultType: 'vector',
          result: [{ metric: { __name__: 'jobs', q: 'a' }, value: [t0 + 60, '4'] }],
        },
      });
      const other = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=jobs&time=${t0 + 60}`, {
        headers: { 'X-Scope-OrgID': 'team-b' },
      });
      expect(((await other.json()) as { data: { result: unknown[] } }).data.result).toEqual([]);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('promstream_query_duration_seconds');
    } finally {
      const exited = exitOf(child);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
