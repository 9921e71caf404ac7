import { type ChildProcess, spawn } from 'node:child_process';
import { waitForPort } from '@promstream/testkit';

/** A child process started by a test, stopped by its own pid. */
export interface Started {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a tool and waits until it listens on `port`; rejects with its output if it exits first. */
export async function startTool(
  command: string,
  args: string[],
  port: number,
  timeoutMs = 30_000,
): Promise<Started> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  });
  child.stderr?.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const done = await Promise.race([
      exited.then(() => true),
      new Promise((r) => setTimeout(() => r(false), 10_000)),
    ]);
    if (!done) child.kill('SIGKILL');
  };
  try {
    await Promise.race([
      waitForPort('127.0.0.1', port, timeoutMs),
      exited.then((code) => {
        throw new Error(`${command} exited with ${code}: ${out.slice(-2000)}`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, output: () => out, stop };
}
