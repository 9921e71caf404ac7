import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBlocksFromOpenMetrics, listAll, objectStoreFromUrl } from '@promstream/storage';
import { announceSkip, freePort, logBackend, realS3, repoRoot, waitForPort } from '@promstream/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/** The environment of a child with nothing of ours or of AWS in it, so only the file configures it. */
function bareEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HOME: dir };
  for (const name of ['PATH', 'NODE_OPTIONS', 'TMPDIR'])
    if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}

/** Runs the command line from source, as `promstream <args>`, with the given environment. */
function promstream(
  args: string[],
  env: NodeJS.ProcessEnv,
): ChildProcess & { out: () => string; err: () => string } {
  const main = path.join(repoRoot, 'infra', 'src', 'cli', 'main.ts');
  const script = `import(${JSON.stringify(main)}).then((m) => m.main(process.argv.slice(1))).catch((e) => { console.error(e.message); process.exit(1); });`;
  const child = spawn(
    process.execPath,
    ['--conditions=@promstream/source', '--import', 'tsx', '-e', script, ...args],
    {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return Object.assign(child, { out: () => out, err: () => err });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = exitOf(child);
  child.kill('SIGTERM');
  return exited;
}

const log = await logBackend();
if (!log.ok) announceSkip('registry reads the registry section', log.reason);
const s3 = realS3();
if (!s3.ok) announceSkip('query reads the s3 section', s3.reason);

const dir = mkdtempSync(path.join(tmpdir(), 'promstream-config-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('promstream config print', () => {
  it('prints the effective configuration of a role: file < environment < flags, secret redacted', async () => {
    const f = file('print.yaml', 'query:\n  port: 1111\n  defaultTenant: from-file\nlogLevel: debug\n');
    const child = promstream(['config', 'print', 'query', '--config', f, '--port', '3333'], {
      ...bareEnv(dir),
      PROMSTREAM_QUERY_PORT: '2222',
      PROMSTREAM_QUERY_DEFAULT_TENANT: 'from-env',
      S3_SECRET_ACCESS_KEY: 'do-not-print-me',
    });
    expect(await exitOf(child), child.err()).toBe(0);
    expect(child.out()).not.toContain('do-not-print-me');
    const printed = parse(child.out()) as Record<string, Record<string, unknown>>;
    expect(printed.query).toMatchObject({ port: 3333, defaultTenant: 'from-env' });
    expect(printed.logLevel).toBe('debug');
    expect(printed.s3?.secretAccessKey).toBe('<redacted>');
    expect(child.err()).toBe('');
  }, 60_000);

  it('refuses an unknown key with one line naming it, and exits 2', async () => {
    const f = file('typo.yaml', 'gateway:\n  prot: 9091\n');
    const child = promstream(['config', 'print', '--config', f], bareEnv(dir));
    expect(await exitOf(child)).toBe(2);
    expect(child.err()).toBe(
      `promstream config print: configuration: gateway.prot: unknown setting (in file ${f})\n`,
    );
    expect(child.out()).toBe('');
  }, 60_000);

  it('refuses a bad value from the environment with one line naming the key and the variable', async () => {
    const child = promstream(['config', 'print', 'agent'], {
      ...bareEnv(dir),
      PROMSTREAM_AGENT_BUFFER_SIZE: 'lots',
    });
    expect(await exitOf(child)).toBe(2);
    expect(child.err().trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^promstream config print agent: configuration: agent\.bufferBytes: expected a size .* got "lots" \(from env PROMSTREAM_AGENT_BUFFER_SIZE\)$/,
      ),
    ]);
  }, 60_000);
});

describe('roles read their sections of the file', () => {
  it('broker: listens where the broker section says and keeps its segments there', async () => {
    const port = await freePort();
    const data = path.join(dir, 'broker-data');
    const f = file('broker.yaml', `broker:\n  port: ${port}\n  dataDir: ${data}\nlogLevel: warn\n`);
    const child = promstream(['broker', '--config', f], bareEnv(dir));
    try {
      await waitForPort('127.0.0.1', port, 60_000);
      expect(readdirSync(data).length).toBeGreaterThan(0);
    } finally {
      expect(await stop(child), child.err()).toBe(0);
    }
  }, 90_000);

  it.skipIf(!log.ok)(
    'registry: serves on the port and topic of the registry section, brokers from kafka',
    async () => {
      if (!log.ok) return;
      const port = await freePort();
      const topic = `_schemas-config-test-${randomUUID()}`;
      const f = file(
        'registry.yaml',
        `kafka:\n  brokers: [${log.backend.brokers.join(', ')}]\nregistry:\n  port: ${port}\n  topic: ${topic}\nlogLevel: warn\n`,
      );
      const child = promstream(['registry', '--config', f], bareEnv(dir));
      try {
        await waitForPort('127.0.0.1', port, 60_000);
        const res = await fetch(`http://127.0.0.1:${port}/subjects`);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual([]);
      } finally {
        expect(await stop(child), child.err()).toBe(0);
      }
    },
    90_000,
  );

  it.skipIf(!s3.ok)(
    'query: serves the port and default tenant of the query section from an S3 bucket reached only by the s3 section',
    async () => {
      if (!s3.ok) return;
      const b = s3.backend;
      const creds = {
        endpoint: b.endpoint,
        region: b.region,
        accessKeyId: b.accessKeyId,
        secretAccessKey: b.secretAccessKey,
      };
      const url = `s3://${b.bucket}/config-test-${randomUUID()}`;
      const seeded = objectStoreFromUrl(url, creds);
      const t0 = 1_767_225_600;
      await createBlocksFromOpenMetrics(
        `# TYPE jobs gauge\njobs{q="a"} 7 ${t0}\n# EOF\n`,
        seeded,
        'cfg-tenant',
      );
      const port = await freePort();
      const f = file(
        'query.yaml',
        [
          `objectStore: ${url}`,
          's3:',
          `  endpoint: ${b.endpoint}`,
          `  region: ${b.region}`,
          `  accessKeyId: ${b.accessKeyId}`,
          `  secretAccessKey: ${b.secretAccessKey}`,
          'query:',
          `  port: ${port}`,
          '  defaultTenant: cfg-tenant',
          'logLevel: warn',
          '',
        ].join('\n'),
      );
      const child = promstream(['query', '--config', f], bareEnv(dir));
      try {
        await waitForPort('127.0.0.1', port, 60_000);
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=jobs&time=${t0}`);
        expect(await res.json()).toEqual({
          status: 'success',
          data: {
            resultType: 'vector',
            result: [{ metric: { __name__: 'jobs', q: 'a' }, value: [t0, '7'] }],
          },
        });
      } finally {
        expect(await stop(child), child.err()).toBe(0);
        for (const o of await listAll(seeded, '', { recursive: true })) await seeded.delete(o.key);
      }
    },
    90_000,
  );
});
