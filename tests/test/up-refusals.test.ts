import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, repoRoot } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

// `promstream up` and each role on its own refuse to start on a taken port
// or an unusable data directory: one plain line on stderr, a non-zero exit,
// and nothing started. Ports are held here by a plain net.Server, as a
// second instance would find them held by the first; no default port is used.

interface Exit {
  code: number | null;
  stderr: string;
  ms: number;
}

/** Runs the promstream command line from the sources and waits for it to exit (killing it after 30 s). */
function promstream(args: string[]): Promise<Exit> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      '--conditions=@promstream/source',
      '--import',
      'tsx',
      path.join(repoRoot, 'bin', 'promstream.js'),
      ...args,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - started });
    }),
  );
}

/** Expects the process to have exited non-zero with exactly the one line `want` matches. */
function expectRefusal(exit: Exit, want: RegExp): void {
  expect(exit.code, exit.stderr).not.toBe(0);
  expect(exit.code, exit.stderr).not.toBeNull();
  const lines = exit.stderr.trim().split('\n');
  expect(lines, exit.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(want);
}

describe('refusing to start wrong', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'promstream-refusals-'));
  const held = net.createServer();
  let heldPort = 0;
  // A port nothing listens on: a role that reached for Kafka here would retry, not exit.
  let closedPort = 0;

  beforeAll(async () => {
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    heldPort = (held.address() as net.AddressInfo).port;
    closedPort = await freePort();
  });
  afterAll(async () => {
    await new Promise((r) => held.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const upArgs = async (data: string, overrides: Record<string, number>) => {
    const ports: Record<string, number> = {
      '--port': await freePort(),
      '--kafka-port': await freePort(),
      '--registry-port': await freePort(),
      ...overrides,
    };
    return ['up', '--data', data, '--no-agent', ...Object.entries(ports).flatMap(([f, p]) => [f, String(p)])];
  };

  for (const flag of ['--port', '--kafka-port', '--registry-port']) {
    test(`up exits at once naming ${flag} when its port is taken, before any role starts`, async () => {
      const data = path.join(dir, `up${flag}`);
      const exit = await promstream(await upArgs(data, { [flag]: heldPort }));
      expectRefusal(
        exit,
        new RegExp(
          `^promstream: port ${heldPort} on 127\\.0\\.0\\.1 is already in use; choose another with ${flag}$`,
        ),
      );
      // The check runs before the data directory is set up and before the broker would create its log.
      expect(existsSync(path.join(data, 'log'))).toBe(false);
      expect(existsSync(path.join(data, 'blocks'))).toBe(false);
    });
  }

  test('up refuses a data directory on /proc, a file, or below a file, in a moment', async () => {
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'x');
    const cases: [string, RegExp][] = [
      ['/proc/promstream-x', /^promstream: --data \/proc\/promstream-x is on \/proc, a kernel file system/],
      [file, new RegExp(`^promstream: --data ${file} is a file, not a directory$`)],
      [
        path.join(file, 'data'),
        new RegExp(`^promstream: --data ${file}/data ${file} is a file, not a directory$`),
      ],
    ];
    for (const [data, want] of cases) {
      const exit = await promstream(await upArgs(data, {}));
      expectRefusal(exit, want);
    }
  });

  test('the broker refuses a taken port and a data directory on /proc', async () => {
    expectRefusal(
      await promstream(['broker', '--data', path.join(dir, 'broker'), '--port', String(heldPort)]),
      new RegExp(`^promstream: port ${heldPort} .* choose another with --port$`),
    );
    expectRefusal(
      await promstream(['broker', '--data', '/proc/promstream-x', '--port', String(await freePort())]),
      /^promstream: --data \/proc\/promstream-x is on \/proc/,
    );
  });

  test('registry, gateway, query and agent refuse a taken port before they reach for the log', async () => {
    const brokers = `127.0.0.1:${closedPort}`;
    const registry = `http://127.0.0.1:${closedPort}`;
    const runs: [string, string[]][] = [
      ['registry', ['registry', '--brokers', brokers, '--port', String(heldPort)]],
      ['gateway', ['gateway', '--brokers', brokers, '--registry', registry, '--port', String(heldPort)]],
      [
        'query',
        [
          'query',
          '--store',
          `file://${path.join(dir, 'blocks')}`,
          '--brokers',
          brokers,
          '--port',
          String(heldPort),
        ],
      ],
      [
        'agent',
        ['agent', '--brokers', brokers, '--registry', registry, '--data', dir, '--port', String(heldPort)],
      ],
    ];
    for (const [role, args] of runs) {
      const exit = await promstream(args);
      expectRefusal(
        exit,
        new RegExp(
          `^promstream: port ${heldPort} on 127\\.0\\.0\\.1 is already in use; choose another with --port$`,
        ),
      );
      expect(exit.ms, role).toBeLessThan(25_000);
    }
  });
});
