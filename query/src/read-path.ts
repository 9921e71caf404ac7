import { BucketCatalog, type ObjectStore, type PlacementRules } from '@promstream/storage';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { catalogBlockLister } from './blocks/catalog-lister.js';
import { SelectionCache } from './blocks/selection-cache.js';
import { openStorageBlock } from './blocks/storage-block.js';
import { TenantBlocks } from './blocks/tenant-blocks.js';
import type { LogHead } from './head/log-head.js';
import { startLogHead } from './head/start-head.js';
import { MergeQuerier } from './merge-querier.js';
import type { Querier } from './querier.js';

/**
 * The query tier's read path without its HTTP API, for processes that
 * evaluate PromQL themselves (the rules role): a log-tail head per topic
 * (the samples topic and the derived topic) merged with the bucket's
 * blocks, and strong reads that wait until every head has read what the log
 * held when they were asked.
 */

/** Options of a read path. */
export interface ReadPathOptions {
  store: ObjectStore;
  brokers: string[];
  registryUrl: string;
  /** The topics to tail, most authoritative first (default: the samples topic). */
  topics: readonly string[];
  logger: Logger;
  /** Metrics of the first head (one head's metrics per registry). */
  registry?: Registry;
  /** The block builder's placement rules, for the heads until its state names them. */
  headRules?: PlacementRules;
  /** How long a tenant's block list is reused, ms (default 30 s). */
  catalogRefreshMs?: number;
  /** Bytes of block index entries and chunks kept across reads (default 64 MiB). */
  cacheBytes?: number;
  now?: () => number;
}

/** A started read path. */
export interface ReadPath {
  /** A querier over one tenant's heads and blocks. */
  querier(tenant: string): Promise<Querier>;
  /** Resolves once every head has read every record in the log at the time of the call. */
  waitForLatest(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the heads and the block lister. */
export async function startReadPath(options: ReadPathOptions): Promise<ReadPath> {
  const refreshMs = options.catalogRefreshMs ?? 30_000;
  const cacheBytes = options.cacheBytes ?? 64 * 1024 * 1024;
  const selections = new SelectionCache(cacheBytes);
  const catalog = new BucketCatalog(options.store);
  const blocks = new TenantBlocks({
    list: catalogBlockLister(catalog, (s, prefix, meta) =>
      openStorageBlock(s, prefix, meta, cacheBytes > 0 ? selections : undefined),
    ),
    refreshMs,
    now: options.now,
    logger: options.logger,
  });
  const heads: LogHead[] = [];
  try {
    for (const [i, topic] of options.topics.entries())
      heads.push(
        await startLogHead({
          brokers: options.brokers,
          registryUrl: options.registryUrl,
          store: options.store,
          topic,
          logger: options.logger.child({ topic }),
          registry: i === 0 ? options.registry : undefined,
          rules: options.headRules,
          holdMs: refreshMs + 1000,
        }),
      );
  } catch (err) {
    await Promise.all(heads.map((h) => h.stop()));
    throw err;
  }
  return {
    querier: async (tenant) =>
      new MergeQuerier([...heads.map((h) => h.querier(tenant)), await blocks.querier(tenant)]),
    waitForLatest: async (timeoutMs) => {
      await Promise.all(heads.map((h) => h.waitForLatest(timeoutMs)));
    },
    stop: async () => {
      await Promise.all(heads.map((h) => h.stop()));
    },
  };
}
