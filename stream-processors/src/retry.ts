import { StreamError } from './errors.js';

/** How a processor tries a record again. */
export interface RetryPolicy {
  /** First wait after a transient failure, ms (default 100). */
  initialDelayMs?: number;
  /** Longest wait between two tries of a transient failure, ms (default 5000). */
  maxDelayMs?: number;
  /** Tries of a failure whose verdict depends on the registry, before it is final (default 3). */
  recheckAttempts?: number;
  /** Wait between those tries, ms (default 1000). */
  recheckDelayMs?: number;
}

/** What a processor gives the retry loop: how to wait, and whether to go on. */
export interface RetryContext {
  /** Waits `ms` (injected so tests do not sleep). */
  sleep(ms: number): Promise<void>;
  /** Called before each wait (a consumer heartbeats here) with the error that caused it. */
  onWait?(error: StreamError, attempt: number, delayMs: number): Promise<void> | void;
  /** False once the processor stops or loses the partition: the loop gives up with `stopped`. */
  keepGoing(): boolean;
}

/** The outcome of trying one record. */
export type Attempt<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; error: StreamError; attempts: number }
  | { ok: false; stopped: true; attempts: number };

/** Turns anything thrown into a StreamError (an unknown error counts as a bad record). */
export type Classify = (err: unknown) => StreamError;

/** The default classification: StreamErrors as they are, anything else a bad record. */
export const asStreamError: Classify = (err) =>
  err instanceof StreamError
    ? err
    : new StreamError('BAD_RECORD', String((err as Error)?.message ?? err), { cause: err });

/**
 * Runs `fn` until it succeeds, fails for good, or the processor stops.
 * Transient failures (`retryable`) are waited out with doubling waits up to
 * `maxDelayMs`, as often as it takes: they are never a record's fault.
 * Failures whose verdict depends on the registry (`recheck`) are tried
 * `recheckAttempts` times; other failures are final at once. Once
 * `keepGoing` says no, it stops waiting and returns `stopped`.
 */
export async function tryRecord<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  ctx: RetryContext,
  classify: Classify = asStreamError,
): Promise<Attempt<T>> {
  const initial = policy.initialDelayMs ?? 100;
  const max = policy.maxDelayMs ?? 5000;
  const rechecks = policy.recheckAttempts ?? 3;
  const recheckDelay = policy.recheckDelayMs ?? 1000;
  let attempts = 0;
  let transientDelay = initial;
  let rechecked = 0;
  // The first try always runs (a stopping consumer still finishes the batch it has);
  // only waiting for another try depends on keepGoing.
  for (;;) {
    attempts++;
    try {
      return { ok: true, value: await fn(), attempts };
    } catch (err) {
      const error = classify(err);
      let delay: number;
      if (error.retryable) {
        delay = transientDelay;
        transientDelay = Math.min(max, transientDelay * 2);
      } else if (error.recheck && ++rechecked < rechecks) {
        delay = recheckDelay;
      } else {
        return { ok: false, error, attempts };
      }
      await ctx.onWait?.(error, attempts, delay);
      if (!ctx.keepGoing()) return { ok: false, stopped: true, attempts };
      await ctx.sleep(delay);
    }
  }
}
