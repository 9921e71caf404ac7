import type { PromstreamConfig } from './config.js';

/** A tenant's ingestion rate, in the gateway's terms. */
export interface TenantRate {
  samplesPerSecond: number;
  burst: number;
}

/** A tenant's window of sample timestamps, in the gateway's terms. */
export interface TenantWindow {
  pastMs: number;
  futureMs: number;
}

/** The gateway's per-tenant limits, as functions of the tenant id. */
export interface TenantLimits {
  rate(tenant: string): TenantRate | undefined;
  window(tenant: string): TenantWindow;
}

/**
 * The per-tenant limits of the gateway from its configuration: a tenant's
 * entry under `gateway.tenants` wins over the gateway's defaults. The rate
 * defaults to `defaultRate` (gateway.tenantRate; undefined: unlimited,
 * burst 10 s of the rate); the window into the past to `gateway.pastWindow`,
 * else the block builder's out-of-order window, so the gateway refuses what
 * the block builder could no longer place; the window into the future to
 * `gateway.creationGracePeriod`.
 */
export function tenantLimits(config: PromstreamConfig, defaultRate?: TenantRate): TenantLimits {
  const { tenants } = config.gateway;
  const pastMs = config.gateway.pastWindow ?? config.blockBuilder.outOfOrderWindow;
  const futureMs = config.gateway.creationGracePeriod;
  return {
    rate(tenant) {
      const own = Object.hasOwn(tenants, tenant) ? tenants[tenant] : undefined;
      const samplesPerSecond = own?.samplesPerSecond ?? defaultRate?.samplesPerSecond;
      if (samplesPerSecond === undefined) return undefined;
      return { samplesPerSecond, burst: own?.burst ?? defaultRate?.burst ?? samplesPerSecond * 10 };
    },
    window(tenant) {
      const own = Object.hasOwn(tenants, tenant) ? tenants[tenant] : undefined;
      return { pastMs: own?.pastWindow ?? pastMs, futureMs: own?.creationGracePeriod ?? futureMs };
    },
  };
}
