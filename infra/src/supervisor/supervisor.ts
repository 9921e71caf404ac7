import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import type { Logger } from 'pino';
import { SUPERVISOR_PID_ENV } from './parent-watch.js';

/** One role the supervisor runs in a child process of its own. */
export interface ChildSpec {
  /** The role's name, for logs and status. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** A TCP port that accepts connections once the role is ready; later roles wait for it. */
  readyPort?: { host: string; port: number };
}

/** Options of the supervisor. */
export interface SupervisorOptions {
  children: ChildSpec[];
  logger: Logger;
  /** First restart delay (default 500 ms); it doubles per crash up to maxBackoffMs. */
  initialBackoffMs?: number;
  /** Longest restart delay (default 30 s). */
  maxBackoffMs?: number;
  /** A child that ran this long before crashing restarts with the first delay again (default 60 s). */
  resetAfterMs?: number;
  /** How long a child gets between SIGTERM and SIGKILL when stopping (default 10 s). */
  stopTimeoutMs?: number;
  /** How long start() waits for a ready port (default 60 s). */
  readyTimeoutMs?: number;
  now?: () => number;
}

/** What one supervised role is doing. */
export interface ChildStatus {
  name: string;
  pid?: number;
  restarts: number;
  running: boolean;
}

interface Slot {
  spec: ChildSpec;
  child?: ChildProcess;
  startedAt: number;
  restarts: number;
  backoff: number;
  timer?: NodeJS.Timeout;
  exited?: Promise<void>;
}

/**
 * Runs each role in its own child process, in order, each waiting for the
 * previous one's ready port; restarts a role that exits on its own, with a
 * delay that doubles per crash; stops them all, last started first, on
 * stop() (SIGTERM, then SIGKILL after a timeout).
 */
export class Supervisor {
  private readonly slots: Slot[];
  private stopping = false;
  private readonly now: () => number;

  constructor(private readonly options: SupervisorOptions) {
    this.now = options.now ?? Date.now;
    this.slots = options.children.map((spec) => ({
      spec,
      startedAt: 0,
      restarts: 0,
      backoff: options.initialBackoffMs ?? 500,
    }));
  }

  /** Starts every role in order; rejects when one does not become ready (after stopping the others). */
  async start(): Promise<void> {
    for (const slot of this.slots) {
      this.launch(slot);
      const ready = slot.spec.readyPort;
      if (ready !== undefined) {
        try {
          await this.waitReady(slot, ready.host, ready.port);
        } catch (err) {
          await this.stop();
          throw err;
        }
      }
    }
  }

  /** Which roles run, with their pid and restart count. */
  status(): ChildStatus[] {
    return this.slots.map((s) => ({
      name: s.spec.name,
      pid: s.child?.pid,
      restarts: s.restarts,
      running: s.child !== undefined && s.child.exitCode === null && s.child.signalCode === null,
    }));
  }

  /** Stops every role, last started first, and resolves when all have exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const slot of [...this.slots].reverse()) {
      if (slot.timer !== undefined) clearTimeout(slot.timer);
      const child = slot.child;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => {
        this.options.logger.warn(
          { role: slot.spec.name, pid: child.pid },
          'role did not stop in time; SIGKILL',
        );
        child.kill('SIGKILL');
      }, this.options.stopTimeoutMs ?? 10_000);
      await slot.exited;
      clearTimeout(killTimer);
    }
  }

  private launch(slot: Slot): void {
    const { spec } = slot;
    const log = this.options.logger;
    const child = spawn(spec.command, spec.args, {
      env: { ...(spec.env ?? process.env), [SUPERVISOR_PID_ENV]: String(process.pid) },
      stdio: ['ignore', 'inherit', 'inherit'],
      // A process group of its own: Ctrl-C in a terminal reaches the supervisor alone, which
      // stops the roles in reverse start order (the broker last), so no role sees its broker
      // vanish before it has stopped. Each role still exits with the supervisor (parent-watch.ts).
      detached: true,
    });
    slot.child = child;
    slot.startedAt = this.now();
    log.info({ role: spec.name, pid: child.pid }, 'role started');
    slot.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve();
        if (this.stopping) {
          log.info({ role: spec.name, code, signal }, 'role stopped');
          return;
        }
        if (this.now() - slot.startedAt >= (this.options.resetAfterMs ?? 60_000))
          slot.backoff = this.options.initialBackoffMs ?? 500;
        const delay = slot.backoff;
        slot.backoff = Math.min(slot.backoff * 2, this.options.maxBackoffMs ?? 30_000);
        slot.restarts++;
        log.error({ role: spec.name, code, signal, restartInMs: delay }, 'role exited; restarting');
        slot.timer = setTimeout(() => {
          slot.timer = undefined;
          if (!this.stopping) this.launch(slot);
        }, delay);
      });
      child.once('error', (err) => log.error({ role: spec.name, err }, 'role could not start'));
    });
  }

  private async waitReady(slot: Slot, host: string, port: number): Promise<void> {
    const timeout = this.options.readyTimeoutMs ?? 60_000;
    const deadline = this.now() + timeout;
    for (;;) {
      if (await connects(host, port)) return;
      const child = slot.child;
      if (slot.restarts > 2 && (child === undefined || child.exitCode !== null))
        throw new Error(`role ${slot.spec.name} keeps exiting before it listens on ${host}:${port}`);
      if (this.now() > deadline)
        throw new Error(`role ${slot.spec.name}: nothing listens on ${host}:${port} after ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
