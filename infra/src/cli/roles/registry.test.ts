import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { announceSkip, freePort, logBackend, repoRoot, waitForPort } from '@promstream/testkit';
import kafkajs from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';

const picked = await logBackend();
if (!picked.ok) announceSkip('promstream registry command', picked.reason);

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

describe('promstream registry', () => {
  it('refuses a malformed --brokers list with a message', async () => {
    const child = promstream(['registry', '--brokers', 'not a broker']);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    expect(await exitOf(child)).not.toBe(0);
    expect(stderr).toContain('kafka.brokers: expected host:port');
  });

  describe.skipIf(!picked.ok)('on a log', () => {
    const backend = picked.ok ? picked.backend : undefined;
    const topic = `_schemas-cli-test-${randomUUID()}`;
    afterAll(async () => {
      if (backend === undefined) return;
      const admin = new kafkajs.Kafka({
        brokers: backend.brokers,
        logLevel: kafkajs.logLevel.NOTHING,
      }).admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
      await backend.stop();
    });

    it('serves the REST API and /metrics, and stops cleanly on SIGTERM', async () => {
      const port = await freePort();
      const child = promstream([
        'registry',
        '--brokers',
        backend!.brokers.join(','),
        '--port',
        String(port),
        '--topic',
        topic,
      ]);
      const exited = exitOf(child);
      try {
        await waitForPort('127.0.0.1', port, 60_000);
        const res = await fetch(`http://127.0.0.1:${port}/subjects/cli-value/versions`, {
          method: 'POST',
          headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
          body: JSON.stringify({ schema: '"string"' }),
        });
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ subject: 'cli-value', version: 1 });
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(metrics).toContain('promstream_registry_subjects 1');
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
    });
  });
});
