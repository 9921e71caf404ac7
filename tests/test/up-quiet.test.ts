import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { announceSkip, freePort, repoRoot, waitForPort } from '@promstream/testkit';
import { afterAll, describe, expect, test } from 'vitest';

// A clean start and a clean stop of `promstream up` print no warning and no
// error: Ctrl-C goes to the whole process group, as a terminal sends it.

const built = existsSync(path.join(repoRoot, 'infra', 'dist', 'cli', 'main.js'));
const reason = built ? undefined : 'infra is not built (npm test builds it first)';
if (reason !== undefined) announceSkip('promstream up logs quietly', reason);

/** The pino lines at warn (40) or above, and any line that is not pino's but says warn or error. */
function loudLines(output: string): string[] {
  const loud: string[] = [];
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    let level: unknown;
    try {
      level = (JSON.parse(line) as { level?: unknown }).level;
    } catch {
      // Node's own warnings start with `(node:<pid>)` (a deprecation, an experimental feature).
      if (/\b(warn|warning|error)\b/i.test(line) || /^\(node:\d+\)/.test(line)) loud.push(line);
      continue;
    }
    if (typeof level === 'number' && level >= 40) loud.push(line);
  }
  return loud;
}

describe.skipIf(reason !== undefined)('promstream up', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'promstream-quiet-'));
  let up: ChildProcess | undefined;

  afterAll(() => {
    if (up?.pid !== undefined && up.exitCode === null) process.kill(-up.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('starts and stops on Ctrl-C without a warning or an error', async () => {
    const port = await freePort();
    const kafkaPort = await freePort();
    let output = '';
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
        '--log-level',
        'info',
      ],
      // A process group of its own, so the test can send Ctrl-C to all of it.
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    up.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    up.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => up!.once('exit', (code) => resolve(code)));
    await waitForPort('127.0.0.1', port, 90_000);
    for (let waited = 0; !output.includes('promstream is up') && waited < 10_000; waited += 50)
      await new Promise((r) => setTimeout(r, 50));
    expect(output).toContain('promstream is up');
    // Long enough for the block builder and the query head to join the log and the agent to ship once.
    await new Promise((r) => setTimeout(r, 8000));
    process.kill(-up.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    // The roles' own lines may reach the pipes a moment after the supervisor exits.
    await new Promise((r) => setTimeout(r, 500));
    expect(output).toContain('role started');
    expect(loudLines(output)).toEqual([]);
  }, 150_000);
});
