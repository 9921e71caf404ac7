import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AgentEvent } from './event.js';
import { startKernelSource } from './kernel-source.js';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('kernel log source', () => {
  it('follows a growing log and reports new records once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ingest-kmsg-'));
    const file = path.join(dir, 'kmsg');
    writeFileSync(file, '3,1,1000000,-;Out of memory: Killed process 1 (a)\n');
    const events: AgentEvent[] = [];
    const stop = startKernelSource({
      host: 'h',
      bootTime: 0,
      emit: (e) => events.push(e),
      logger: pino({ level: 'silent' }),
      path: file,
      pollMs: 20,
    });
    try {
      await expect.poll(() => events.length).toBe(1);
      appendFileSync(
        file,
        '3,2,2000000,-;Out of memory: Killed process 2 (b)\n3,2,2000000,-;duplicate seq\n',
      );
      await expect.poll(() => events.map((e) => e.attributes.process)).toEqual(['a', 'b']);
      expect(events[1]!.time).toBe(2000);
    } finally {
      stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not keep the process alive once stopped, even on /dev/kmsg', async () => {
    // A blocking read of /dev/kmsg would hold a pool thread and hang the exit.
    const script = `
      import { startKernelSource } from ${JSON.stringify(path.join(here, 'kernel-source.ts'))};
      const stop = startKernelSource({ host: 'h', bootTime: 0, emit() {}, logger: { warn() {} }, pollMs: 50 });
      setTimeout(stop, 300);
    `;
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', '--conditions=@promstream/source', '--input-type=module', '-e', script],
        { timeout: 20_000 },
        () => {},
      );
      child.once('exit', (c) => resolve(c));
    });
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
