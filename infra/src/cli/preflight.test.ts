import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { busyPortLine, dataDirLine, dataDirProblem, findBusyPort } from './preflight.js';

/** A server holding a free loopback port, as another instance would. */
async function holdPort(): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

describe('findBusyPort', () => {
  it('names the first port another listener holds, with the flag that moves it', async () => {
    const held = await holdPort();
    const free = await holdPort();
    const freePort = portOf(free);
    await new Promise((r) => free.close(r));
    try {
      const checks = [
        { host: '127.0.0.1', port: freePort, flag: '--port' },
        { host: '127.0.0.1', port: 0, flag: '--metrics-port' },
        { host: '127.0.0.1', port: undefined, flag: '--other-port' },
        { host: '127.0.0.1', port: portOf(held), flag: '--kafka-port' },
      ];
      const busy = await findBusyPort(checks);
      expect(busy?.check.flag).toBe('--kafka-port');
      expect(busy?.code).toBe('EADDRINUSE');
      expect(busyPortLine(busy!.check, busy!.code)).toBe(
        `promstream: port ${portOf(held)} on 127.0.0.1 is already in use; choose another with --kafka-port`,
      );
      // The check left the free port free.
      expect(await findBusyPort(checks.slice(0, 3))).toBeUndefined();
    } finally {
      await new Promise((r) => held.close(r));
    }
  });

  it('sees a port held on every address as taken on loopback too', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    try {
      const busy = await findBusyPort([{ host: '127.0.0.1', port: portOf(server), flag: '--port' }]);
      expect(busy?.code).toBe('EADDRINUSE');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('dataDirProblem', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'promstream-preflight-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses kernel file systems, files and unwritable paths in well under a second', () => {
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'x');
    const cases: [string, RegExp][] = [
      ['/proc/promstream-data', /is on \/proc, a kernel file system/],
      ['/proc', /is on \/proc/],
      ['/sys/promstream-data/deeper', /is on \/sys/],
      [file, /^is a file, not a directory$/],
      [path.join(file, 'below'), new RegExp(`^${file} is a file, not a directory$`)],
      [path.join(dir, 'x'.repeat(300)), /^cannot be written \(ENAMETOOLONG\)$/],
    ];
    for (const [bad, want] of cases) {
      const started = performance.now();
      expect(dataDirProblem(bad), bad).toMatch(want);
      expect(performance.now() - started, bad).toBeLessThan(1000);
    }
    expect(dataDirLine('--data', '/proc/x', 'is on /proc, a kernel file system, not a place for data')).toBe(
      'promstream: --data /proc/x is on /proc, a kernel file system, not a place for data',
    );
  });

  it('accepts a new directory, creates it and leaves nothing behind', () => {
    const fresh = path.join(dir, 'new', 'data');
    expect(dataDirProblem(fresh)).toBeUndefined();
    expect(statSync(fresh).isDirectory()).toBe(true);
    expect(readdirSync(fresh)).toEqual([]);
    expect(dataDirProblem(fresh)).toBeUndefined();
  });
});
