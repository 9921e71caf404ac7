/**
 * Runs a command and samples its peak resident set size (VmHWM in
 * /proc/<pid>/status) while it runs, so tests and benchmarks measure a
 * child process the way `/usr/bin/time -v` would, without that tool.
 */
import { spawn } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';

/** What a measured run gave. */
export interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak RSS in bytes (0 when /proc is not there). */
  peakRss: number;
  seconds: number;
}

/** Runs `command` with `args` (stdin from `stdinFile` when given) and measures it. */
export function runMeasured(
  command: string,
  args: string[],
  options: { stdinFile?: string } = {},
): Promise<MeasuredRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      stdio: [options.stdinFile === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    if (options.stdinFile !== undefined && child.stdin !== null) {
      const stdin = child.stdin;
      stdin.on('error', () => {}); // The child may exit before reading all; its exit code tells.
      createReadStream(options.stdinFile).pipe(stdin);
    }
    const sample = (): void => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m !== null) peak = Math.max(peak, Number(m[1]) * 1024);
      } catch {
        // The process has just exited; the last reading stands (VmHWM only grows).
      }
    };
    const timer = setInterval(sample, 50);
    child.on('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr, peakRss: peak, seconds: (performance.now() - started) / 1000 });
    });
  });
}
