import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { freePort, repoRoot, waitForPort } from '@promstream/testkit';

/** A `promstream broker` child process. */
export interface BrokerProcess {
  port: number;
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

/**
 * Runs `promstream broker --data DIR --port N` as its own process, from the
 * TypeScript sources (tsx, with the @promstream/source condition) so the
 * test needs no build, and waits until the port accepts connections.
 */
export async function spawnBroker(dataDir: string, port?: number): Promise<BrokerProcess> {
  const p = port ?? (await freePort());
  const child = spawn(
    process.execPath,
    [
      '--conditions=@promstream/source',
      '--import',
      'tsx',
      path.join(repoRoot, 'bin', 'promstream.js'),
      'broker',
      '--data',
      dataDir,
      '--port',
      String(p),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const failed = exited.then((code) => {
    throw new Error(`broker exited with ${code}: ${stderr.slice(0, 1000)}`);
  });
  await Promise.race([waitForPort('127.0.0.1', p, 30_000), failed]);
  failed.catch(() => {});
  return { port: p, child, exited, stderr: () => stderr };
}
