/**
 * Runs the compactor as a role: a pass every interval while it holds the
 * bucket lease, waiting for the lease while another compactor has it. With
 * `once`, it waits for the lease, makes one pass and returns (a pass that
 * fails rejects `done`).
 */
import { hostname } from 'node:os';
import type { ObjectStore } from '@promstream/storage';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Compactor, type CompactorOptions, type PassReport } from './compactor.js';
import { compactorMetrics } from './metrics.js';

/** Options of the compactor role. */
export interface RunCompactorOptions
  extends Omit<CompactorOptions, 'metrics' | 'holder' | 'store' | 'logger'> {
  store: ObjectStore;
  logger: Logger;
  registry: Registry;
  /** Names this process in the lease (default host:pid:random). */
  holder?: string;
  /** Time between passes (default 5m). */
  intervalMs?: number;
  /** One pass, then return. */
  once?: boolean;
}

/** A running compactor. */
export interface RunningCompactor {
  /** Ends after the current step, releasing the lease. */
  stop(): Promise<void>;
  /** Settles when the loop ends (after one pass with `once`). */
  readonly done: Promise<PassReport | undefined>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Starts the compactor loop. */
export function startCompactor(options: RunCompactorOptions): RunningCompactor {
  const holder = options.holder ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const compactor = new Compactor({ ...options, holder, metrics: compactorMetrics(options.registry) });
  const abort = new AbortController();
  const interval = options.intervalMs ?? 5 * 60_000;
  const leaseWait = (options.leaseTtlMs ?? 60_000) / 2;
  const loop = async (): Promise<PassReport | undefined> => {
    let waiting = false;
    while (!abort.signal.aborted) {
      let report: PassReport | undefined;
      try {
        report = await compactor.runOnce();
      } catch (err) {
        if (options.once === true) {
          await compactor.stop();
          throw err;
        }
        options.logger.error({ err }, 'compactor pass failed; trying again after the interval');
      }
      if (report?.leased === false) {
        if (!waiting) options.logger.info('another compactor holds the bucket lease; waiting for it');
        waiting = true;
        await sleep(leaseWait, abort.signal);
        continue;
      }
      waiting = false;
      if (report !== undefined) {
        options.logger.info(
          {
            compacted: report.compacted.length,
            downsampled: report.downsampled.length,
            markedForDeletion: report.markedForDeletion.length,
            deleted: report.deleted.length,
            noCompact: report.noCompact.length,
          },
          'compactor pass done',
        );
      }
      if (options.once === true && report !== undefined) {
        await compactor.stop();
        return report;
      }
      await sleep(interval, abort.signal);
    }
    await compactor.stop();
    return undefined;
  };
  const done = loop();
  return {
    done,
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}
