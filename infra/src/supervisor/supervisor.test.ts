import { freePort } from '@promstream/testkit';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { Supervisor } from './supervisor.js';

const logger = pino({ level: 'silent' });

// A role that listens on a port and exits on SIGTERM.
const listener = (port: number) =>
  `const s=require('net').createServer().listen(${port},'127.0.0.1');process.on('SIGTERM',()=>{s.close();process.exit(0)})`;

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Supervisor', () => {
  test('starts roles in order, restarts one killed with SIGKILL, and stops all on stop()', async () => {
    const port = await freePort();
    const sup = new Supervisor({
      logger,
      initialBackoffMs: 50,
      children: [
        {
          name: 'a',
          command: process.execPath,
          args: ['-e', listener(port)],
          readyPort: { host: '127.0.0.1', port },
        },
        { name: 'b', command: process.execPath, args: ['-e', 'setInterval(()=>{},1000)'] },
      ],
    });
    await sup.start();
    const first = sup.status();
    expect(first.map((s) => s.running)).toEqual([true, true]);
    process.kill(first[1]!.pid!, 'SIGKILL');
    await until(() => sup.status()[1]!.restarts === 1 && sup.status()[1]!.running);
    expect(sup.status()[1]!.pid).not.toBe(first[1]!.pid);
    await sup.stop();
    expect(sup.status().map((s) => s.running)).toEqual([false, false]);
  });

  test('a role that ignores SIGTERM is killed after the stop timeout', async () => {
    // It listens only once its SIGTERM handler is in place, so a slow start cannot end it early.
    const port = await freePort();
    const sup = new Supervisor({
      logger,
      stopTimeoutMs: 200,
      children: [
        {
          name: 'stubborn',
          command: process.execPath,
          args: [
            '-e',
            `process.on('SIGTERM',()=>{});require('net').createServer().listen(${port},'127.0.0.1')`,
          ],
          readyPort: { host: '127.0.0.1', port },
        },
      ],
    });
    await sup.start();
    const started = Date.now();
    await sup.stop();
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(sup.status()[0]!.running).toBe(false);
  });

  test('the restart delay doubles per crash', async () => {
    let t = 0;
    const sup = new Supervisor({
      logger,
      initialBackoffMs: 20,
      maxBackoffMs: 80,
      now: () => t,
      children: [{ name: 'crashy', command: process.execPath, args: ['-e', 'process.exit(3)'] }],
    });
    const started = Date.now();
    await sup.start();
    await until(() => sup.status()[0]!.restarts >= 4);
    // 20 + 40 + 80 ms of delays at least before the fourth restart.
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    t = 1;
    await sup.stop();
  });

  test('start() fails with a clear message when a role never listens', async () => {
    const port = await freePort();
    const sup = new Supervisor({
      logger,
      initialBackoffMs: 10,
      readyTimeoutMs: 5_000,
      children: [
        {
          name: 'dead',
          command: process.execPath,
          args: ['-e', 'process.exit(1)'],
          readyPort: { host: '127.0.0.1', port },
        },
      ],
    });
    await expect(sup.start()).rejects.toThrow(/role dead keeps exiting before it listens/);
  });
});
