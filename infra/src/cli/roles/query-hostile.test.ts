import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBlocksFromOpenMetrics, FsObjectStore } from '@promstream/storage';
import { announceSkip, freePort, repoRoot, waitForPort } from '@promstream/testkit';
import { afterAll, describe, expect, it } from 'vitest';

// The reproduction of issue 25 against the built `promstream query` process:
// a series whose label value makes `(a+)+b` backtrack exponentially, served
// from a block. The query must answer within 1 s while `query=1` keeps
// answering within 100 ms, and SIGTERM must stop the role within a few
// seconds even while an expensive query runs.

const cli = path.join(repoRoot, 'bin', 'promstream.js');
const built = existsSync(path.join(repoRoot, 'infra', 'dist', 'cli', 'main.js'));
if (!built) announceSkip('promstream query under hostile queries', 'infra is not built (run npm run build)');

const T0 = 1_767_225_600;

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function timed(url: string): Promise<{ status: number; ms: number; body: unknown }> {
  const started = performance.now();
  const res = await fetch(url);
  const body = await res.json();
  return { status: res.status, ms: performance.now() - started, body };
}

describe.skipIf(!built)('promstream query under hostile queries', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'promstream-query-hostile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers m{x=~"(a+)+b"} within 1 s, query=1 within 100 ms, and stops on SIGTERM mid-query', async () => {
    let om = `# TYPE m gauge\nm{x="${'a'.repeat(34)}!"} 1 ${T0}\n# TYPE big gauge\n`;
    for (let i = 0; i < 200; i++) for (let k = 0; k <= 120; k++) om += `big{i="${i}"} ${k} ${T0 + k * 60}\n`;
    await createBlocksFromOpenMetrics(`${om}# EOF\n`, new FsObjectStore(dir), 'anonymous');
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [cli, 'query', '--store', `file://${dir}`, '--port', String(port), '--query-timeout', '60s'],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = exitOf(child);
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitForPort('127.0.0.1', port, 60_000);
      // Warm up: the first answer of each kind compiles code.
      await timed(`${base}/api/v1/query?query=1`);
      await timed(`${base}/api/v1/query?query=m&time=${T0}`);

      const hostile = timed(`${base}/api/v1/query?query=${encodeURIComponent('m{x=~"(a+)+b"}')}&time=${T0}`);
      const cheap: number[] = [];
      let done = false;
      void hostile.then(() => {
        done = true;
      });
      while (!done) cheap.push((await timed(`${base}/api/v1/query?query=1`)).ms);
      const h = await hostile;
      expect(h.status).toBe(200);
      expect(h.body).toEqual({ status: 'success', data: { resultType: 'vector', result: [] } });
      expect(h.ms).toBeLessThan(1000);
      expect(Math.max(...cheap)).toBeLessThan(100);

      // An expensive query (far longer than the test) is running when SIGTERM comes.
      const expensive = fetch(
        `${base}/api/v1/query_range?query=${encodeURIComponent('sum(quantile_over_time(0.5, big[2h:1s]))')}&start=${T0}&end=${T0 + 7200}&step=1`,
      ).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
      const during = await timed(`${base}/api/v1/query?query=1`);
      expect(during.ms).toBeLessThan(100);
      const signalled = performance.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(performance.now() - signalled).toBeLessThan(5000);
      await expensive;
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);
});
