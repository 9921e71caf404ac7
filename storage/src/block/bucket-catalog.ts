/**
 * The catalog of a whole bucket: its tenants (`<tenant>/` prefixes) and one
 * block catalog per tenant. The layout is in storage/docs/bucket-catalog.md.
 */
import type { ObjectStore } from '../objstore/object-store.js';
import { tenantStore } from '../objstore/prefixed.js';
import { isValidTenantId, RESERVED_TENANT_ID } from '../tenant.js';
import { type BadMark, BlockCatalog, type SkippedBlock } from './catalog.js';

/**
 * The top-level prefix promstream keeps its own state under (partition
 * states, leases); never a tenant.
 */
export const RESERVED_PREFIX = RESERVED_TENANT_ID;

/**
 * Tenants of a bucket, sorted: the top-level prefixes that are valid tenant
 * IDs, which excludes block ULIDs and the reserved prefix (tenant.ts).
 */
export async function listTenants(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list('')) {
    if (!o.isPrefix) continue;
    const name = o.key.slice(0, -1);
    if (isValidTenantId(name)) out.push(name);
  }
  return out.sort();
}

/** Options of a bucket catalog. */
export interface BucketCatalogOptions {
  /** Called for each block skipped in a tenant's refresh. */
  onSkip?: (tenant: string, b: SkippedBlock) => void;
  /** Called for each mark that did not read in a tenant's refresh. */
  onBadMark?: (tenant: string, m: BadMark) => void;
  /** Clock for marks and deletion delays, ms since the epoch. */
  now?: () => number;
  /** Reads in flight at once in one tenant's refresh (default 16). */
  concurrency?: number;
}

/**
 * A bucket in the multi-tenant layout `<tenant>/<ULID>/...`: lists tenants,
 * and keeps one `BlockCatalog` per tenant (so each tenant's metas are read
 * once). Block keys in the bucket are `<tenant>/<ULID>/<file>`.
 */
export class BucketCatalog {
  private readonly catalogs = new Map<string, BlockCatalog>();

  constructor(
    /** The whole bucket. */
    readonly store: ObjectStore,
    private readonly options: BucketCatalogOptions = {},
  ) {}

  /** The bucket's tenants, sorted. */
  tenants(): Promise<string[]> {
    return listTenants(this.store);
  }

  /** The catalog of one tenant's blocks; throws `invalid_argument` for a name that is not one path segment. */
  tenant(name: string): BlockCatalog {
    let catalog = this.catalogs.get(name);
    if (catalog === undefined) {
      const { onSkip, onBadMark, now, concurrency } = this.options;
      catalog = new BlockCatalog(tenantStore(this.store, name), {
        ...(onSkip !== undefined ? { onSkip: (b) => onSkip(name, b) } : {}),
        ...(onBadMark !== undefined ? { onBadMark: (m) => onBadMark(name, m) } : {}),
        ...(now !== undefined ? { now } : {}),
        ...(concurrency !== undefined ? { concurrency } : {}),
      });
      this.catalogs.set(name, catalog);
    }
    return catalog;
  }
}
