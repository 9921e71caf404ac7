import { ApiError } from './errors.js';

/**
 * Admits at most `max` queries at once; the rest wait in arrival order, as
 * Prometheus' active query tracker does. A waiting query whose signal aborts
 * leaves the queue. `maxQueued` bounds the queue so a flood cannot pile up
 * unbounded memory; past it a query is refused as unavailable.
 */
export class QueryGate {
  private active = 0;
  private readonly waiting: Array<{ admit: () => void }> = [];

  constructor(
    readonly max: number,
    readonly maxQueued = 10_000,
  ) {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`query gate: max must be a positive integer, got ${max}`);
  }

  /** Queries running now. */
  get running(): number {
    return this.active;
  }

  /** Queries waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Waits for a slot; resolves to the function that gives it back (call it exactly once). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxQueued) {
      return Promise.reject(new ApiError('unavailable', 'too many queries waiting: try again later'));
    }
    return new Promise((resolve, reject) => {
      const entry = {
        admit: () => {
          signal?.removeEventListener('abort', onAbort);
          this.active++;
          resolve(this.releaser());
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active--;
      const next = this.waiting.shift();
      if (next !== undefined) next.admit();
    };
  }
}

/** The API error a signal's abort reason stands for. */
export function abortError(signal: AbortSignal): ApiError {
  const reason: unknown = signal.reason;
  if (reason instanceof ApiError) return reason;
  return new ApiError('canceled', 'query was canceled');
}
