/** Per-tenant ingestion rate: samples per second with a burst allowance. */
export interface RateLimit {
  samplesPerSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per tenant. A request takes as many tokens as it has
 * samples; with too few it is refused whole (the sender retries it later),
 * so a request is never half accepted. Time is injected so tests do not sleep.
 */
export class TenantRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly limitFor: (tenant: string) => RateLimit | undefined;
  private readonly now: () => number;

  constructor(limitFor: (tenant: string) => RateLimit | undefined, now: () => number = Date.now) {
    this.limitFor = limitFor;
    this.now = now;
  }

  /** Takes `samples` tokens from the tenant's bucket; false when it holds too few. */
  take(tenant: string, samples: number): boolean {
    const limit = this.limitFor(tenant);
    if (limit === undefined || limit.samplesPerSecond <= 0) return true;
    const now = this.now();
    let b = this.buckets.get(tenant);
    if (b === undefined) {
      b = { tokens: limit.burst, at: now };
      this.buckets.set(tenant, b);
    }
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.samplesPerSecond);
    b.at = now;
    // A request larger than the burst could never pass; it passes when the
    // bucket is full and leaves a debt the refill pays off, so the average
    // rate still holds.
    if (Math.min(samples, limit.burst) > b.tokens) return false;
    b.tokens -= samples;
    return true;
  }
}
