import type { Logger } from 'pino';

/** One thing a role closes when it stops, named for the log. */
export interface ShutdownStep {
  name: string;
  close: () => Promise<void> | void;
}

/** What `onShutdown` needs of the process; tests give their own. */
export interface ShutdownHost {
  on(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  exit(code: number): void;
}

/** Options of `onShutdown`. */
export interface ShutdownOptions {
  /** Longest the steps may take together before the process exits anyway, ms (default 10 s). */
  timeoutMs?: number;
  host?: ShutdownHost;
}

/**
 * The stop of every role, written once: on the first SIGTERM or SIGINT the
 * steps close one after the other in the given order (a failing step is
 * logged and the next one still runs), then the process exits 0, or 1 when a
 * step failed. A stop that takes longer than `timeoutMs`, or a second
 * signal, exits 1 at once.
 */
export function onShutdown(
  logger: Logger,
  steps: readonly ShutdownStep[] | (() => Promise<void>),
  options: ShutdownOptions = {},
): void {
  const host: ShutdownHost = options.host ?? process;
  const list: readonly ShutdownStep[] =
    typeof steps === 'function' ? [{ name: 'role', close: steps }] : steps;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without finishing the stop');
      host.exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      logger.error({ signal, timeoutMs }, 'stop did not finish in time: exiting');
      host.exit(1);
    }, timeoutMs);
    timer.unref?.();
    void closeInOrder(logger, list).then((failed) => {
      clearTimeout(timer);
      host.exit(failed ? 1 : 0);
    });
  };
  host.on('SIGTERM', () => handler('SIGTERM'));
  host.on('SIGINT', () => handler('SIGINT'));
}

/** Closes each step in turn; resolves to whether any failed. */
export async function closeInOrder(logger: Logger, steps: readonly ShutdownStep[]): Promise<boolean> {
  let failed = false;
  for (const step of steps) {
    try {
      await step.close();
    } catch (err) {
      failed = true;
      logger.error({ err, step: step.name }, 'close did not complete');
    }
  }
  return failed;
}
