import type { Logger } from 'pino';
import { BlockQuerier, type QueryableBlock } from './block-querier.js';

/** One block the store lists for a tenant, not yet opened. */
export interface ListedBlock {
  /** Block ULID. */
  readonly id: string;
  /** Opens the block's index and chunk readers. */
  open(): Promise<QueryableBlock>;
}

/** Lists the blocks one tenant's queries may read, of every resolution (deleted, marked and superseded blocks left out). */
export type BlockLister = (tenant: string) => Promise<ListedBlock[]>;

/** Options of the per-tenant block cache. */
export interface TenantBlocksOptions {
  list: BlockLister;
  /** How long a tenant's block list is reused before listing again, milliseconds. */
  refreshMs: number;
  now?: () => number;
  logger?: Pick<Logger, 'warn'>;
  /** Called for every block that fails to open; it is skipped until the next refresh. */
  onBadBlock?: (tenant: string, id: string, err: unknown) => void;
}

interface TenantState {
  listedAt: number;
  querier: BlockQuerier;
}

/**
 * The blocks of every tenant, opened once and kept while the store lists
 * them: a query gets a `BlockQuerier` over the tenant's current blocks. The
 * list is read again after `refreshMs`; new blocks are opened, vanished ones
 * dropped. A block that fails to open is reported and skipped, so one
 * corrupt block does not fail every query; a listing that fails keeps the
 * last list.
 */
export class TenantBlocks {
  private readonly tenants = new Map<string, TenantState>();
  private readonly refreshing = new Map<string, Promise<BlockQuerier>>();
  private readonly opened = new Map<string, QueryableBlock>();
  private readonly now: () => number;

  constructor(private readonly options: TenantBlocksOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A querier over the tenant's blocks, listing them first when the cached list is stale. */
  async querier(tenant: string): Promise<BlockQuerier> {
    const state = this.tenants.get(tenant);
    if (state !== undefined && this.now() - state.listedAt < this.options.refreshMs) return state.querier;
    // Concurrent queries of one tenant share a single listing.
    let refreshing = this.refreshing.get(tenant);
    if (refreshing === undefined) {
      refreshing = this.refresh(tenant).finally(() => this.refreshing.delete(tenant));
      this.refreshing.set(tenant, refreshing);
    }
    return refreshing;
  }

  private async refresh(tenant: string): Promise<BlockQuerier> {
    let listed: ListedBlock[];
    try {
      listed = await this.options.list(tenant);
    } catch (err) {
      // The store failed: answer from the blocks listed last (still valid, blocks are
      // immutable) rather than from none, and list again after the refresh interval.
      const last = this.tenants.get(tenant);
      if (last === undefined) throw err;
      this.options.logger?.warn({ tenant, err }, 'list blocks: kept the last list');
      last.listedAt = this.now();
      return last.querier;
    }
    const blocks: QueryableBlock[] = [];
    const live = new Set<string>();
    for (const b of listed) {
      const key = `${tenant}/${b.id}`;
      live.add(key);
      let block = this.opened.get(key);
      if (block === undefined) {
        try {
          block = await b.open();
          this.opened.set(key, block);
        } catch (err) {
          this.options.logger?.warn({ tenant, block: b.id, err }, 'open block: skipped');
          this.options.onBadBlock?.(tenant, b.id, err);
          continue;
        }
      }
      blocks.push(block);
    }
    for (const key of this.opened.keys()) {
      if (key.startsWith(`${tenant}/`) && !live.has(key)) this.opened.delete(key);
    }
    blocks.sort((a, b) => a.minTime - b.minTime);
    const querier = new BlockQuerier(blocks);
    this.tenants.set(tenant, { listedAt: this.now(), querier });
    return querier;
  }
}
