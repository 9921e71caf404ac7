import { existsSync, mkdirSync, realpathSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * Checks a role makes before it starts anything: that every port it will
 * listen on is free, and that its data directory is a directory it can
 * write. A role that started half-way on a taken port would first join the
 * other instance's broker and consumer groups; a data directory on a kernel
 * file system makes a recursive mkdir loop forever.
 */

/** A port a role will listen on, and the flag that moves it. */
export interface PortCheck {
  host: string;
  /** 0 (let the system pick) and undefined are not checked. */
  port: number | undefined;
  flag: string;
}

/** The first port of `checks` that cannot be listened on, with the reason, or undefined when all are free. */
export async function findBusyPort(
  checks: readonly PortCheck[],
): Promise<{ check: PortCheck; code: string } | undefined> {
  for (const check of checks) {
    if (check.port === undefined || check.port === 0) continue;
    const code = await tryListen(check.host, check.port);
    if (code !== undefined) return { check, code };
  }
  return undefined;
}

/** The one line that says a port is taken and which flag moves it. */
export function busyPortLine(check: PortCheck, code: string): string {
  const why = code === 'EADDRINUSE' ? 'is already in use' : `cannot be listened on (${code})`;
  return `promstream: port ${check.port} on ${check.host} ${why}; choose another with ${check.flag}`;
}

/** Listens on host:port and closes again: undefined when that worked, else the error code. */
function tryListen(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

// statfs magic numbers of kernel file systems that hold no data (linux/magic.h).
const KERNEL_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
]);

/**
 * Why `dir` cannot hold promstream's data, or undefined when it can. Creates
 * the directory and writes and removes one small file in it; returns in
 * milliseconds whatever the path.
 */
export function dataDirProblem(dir: string): string | undefined {
  const abs = path.resolve(dir);
  let existing = abs;
  while (!existsSync(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  try {
    const real = realpathSync(existing);
    const kernel = kernelFileSystem(real);
    if (kernel !== undefined) return `is on ${kernel}, a kernel file system, not a place for data`;
    if (!statSync(real).isDirectory()) {
      return existing === abs ? 'is a file, not a directory' : `${existing} is a file, not a directory`;
    }
    mkdirSync(abs, { recursive: true });
    const probe = path.join(abs, `.promstream-write-check-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    return `cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  return undefined;
}

/** The one line that says why a data directory is refused. */
export function dataDirLine(flag: string, dir: string, problem: string): string {
  return `promstream: ${flag} ${dir} ${problem}`;
}

/** The name of the kernel file system `real` lies on, or undefined. */
function kernelFileSystem(real: string): string | undefined {
  // The path first: statfs is not on every platform.
  for (const root of ['/proc', '/sys']) {
    if (real === root || real.startsWith(`${root}/`)) return root;
  }
  try {
    return KERNEL_FILE_SYSTEMS.get(statfsSync(real).type);
  } catch {
    return undefined;
  }
}

/** Exits the process with one line on stderr when a port is taken; the roles call it before they start anything. */
export async function refuseBusyPorts(checks: readonly PortCheck[]): Promise<void> {
  const busy = await findBusyPort(checks);
  if (busy === undefined) return;
  console.error(busyPortLine(busy.check, busy.code));
  process.exit(1);
}

/** Exits the process with one line on stderr when `dir` cannot hold data. */
export function refuseBadDataDir(flag: string, dir: string): void {
  const problem = dataDirProblem(dir);
  if (problem === undefined) return;
  console.error(dataDirLine(flag, dir, problem));
  process.exit(1);
}
