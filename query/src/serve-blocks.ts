import { createLogClient } from '@promstream/log';
import { createSerdes, TOPICS } from '@promstream/schemas';
import {
  BucketCatalog,
  type ObjectStore,
  objectStoreFromUrl,
  type PlacementRules,
  type S3Settings,
} from '@promstream/storage';
import { type Logger, pino } from 'pino';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
import { type BlockOpener, catalogBlockLister } from './blocks/catalog-lister.js';
import { SelectionCache } from './blocks/selection-cache.js';
import { openStorageBlock } from './blocks/storage-block.js';
import { TenantBlocks } from './blocks/tenant-blocks.js';
import { EvaluationPool } from './evaluation/evaluation-pool.js';
import { BucketEventQuerier } from './events/event-querier.js';
import { LogEventStream } from './events/event-stream.js';
import { LogEventTail } from './events/log-tail.js';
import { type LogHead, readConsistencyHook } from './head/log-head.js';
import { startLogHead } from './head/start-head.js';
import { MergeQuerier } from './merge-querier.js';
import { type QueryServer, startQueryServer } from './server.js';

/** Default budget of the block selection cache. */
const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

/** Options of `promstream query`. */
export interface ServeBlocksOptions {
  /** Object store URL (`file:///path`, `mem://`, `s3://bucket/prefix?...`), or a store. */
  store: string | ObjectStore;
  /** S3 endpoint, region and credentials for an s3:// store URL that does not name them. */
  s3?: S3Settings;
  host?: string;
  port?: number;
  defaultTenant?: string;
  maxConcurrentQueries?: number;
  timeoutMs?: number;
  maxSamples?: number;
  /** How long a tenant's block list is reused, milliseconds (default 30 s). */
  catalogRefreshMs?: number;
  logger?: Logger;
  /** Kafka brokers: with them (and `registryUrl`) the log tail is served too, merged with the blocks. */
  brokers?: string[];
  /** Schema registry URL for decoding the log's records. */
  registryUrl?: string;
  /** The samples topic the head tails (default promstream.samples.v1). */
  samplesTopic?: string;
  /** The events topic `/api/v1/events` reads the tail of (default promstream.events.v1). */
  eventsTopic?: string;
  /** The block builder's placement rules, for the head until the builder's state names them. */
  headRules?: PlacementRules;
  /**
   * A second topic the head tails beside the samples topic (the derived
   * topic, where recorded series and ALERTS are written), so its series are
   * queryable as soon as the log holds them.
   */
  derivedTopic?: string;
  /** How long `X-Read-Consistency: strong` waits for the head, milliseconds (default 10 s). */
  readConsistencyTimeoutMs?: number;
  /**
   * Bytes of block index entries and chunks kept in memory across queries
   * (blocks are immutable; least recently used out). Default 256 MiB; 0 reads
   * the store on every select.
   */
  cacheBytes?: number;
  /** Evaluation threads kept started while idle (default 2); more start as queries need them. */
  evalThreads?: number;
  /**
   * Queries that name no `max_source_resolution` read at `auto` (Thanos'
   * `--query.auto-downsampling`): a range query the coarsest resolution at
   * most step / 5. Default off: such queries read raw blocks only.
   */
  autoDownsampling?: boolean;
  /** Opens one block (default: the storage package's block reader, with the selection cache). */
  open?: BlockOpener;
  now?: () => number;
}

/**
 * The query role over an object store: the Prometheus API on the blocks of
 * each tenant (`<tenant>/<ULID>/`), the tenant chosen by `X-Scope-OrgID`.
 */
export async function serveBlocks(options: ServeBlocksOptions): Promise<QueryServer> {
  const store =
    typeof options.store === 'string' ? objectStoreFromUrl(options.store, options.s3) : options.store;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const badBlocks = new Counter({
    name: 'promstream_query_bad_blocks_total',
    help: 'Blocks that failed to open and were left out of queries.',
    labelNames: ['tenant'],
    registers: [registry],
  });
  const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  const selections = new SelectionCache(cacheBytes);
  const catalog = new BucketCatalog(store, {
    onBadMark: (tenant, m) =>
      options.logger?.warn(
        { tenant, block: m.ulid, file: m.file, reason: m.reason },
        'read block mark: ignored',
      ),
  });
  const blocks = new TenantBlocks({
    list: catalogBlockLister(
      catalog,
      options.open ??
        ((s, prefix, meta) => openStorageBlock(s, prefix, meta, cacheBytes > 0 ? selections : undefined)),
    ),
    refreshMs: options.catalogRefreshMs ?? 30_000,
    now: options.now,
    logger: options.logger,
    onBadBlock: (tenant) => badBlocks.inc({ tenant }),
  });
  const now = options.now ?? Date.now;
  let head: LogHead | undefined;
  if (options.brokers !== undefined && options.brokers.length > 0) {
    if (options.registryUrl === undefined)
      throw new Error('serve the log tail: registryUrl is required with brokers');
    head = await startLogHead({
      brokers: options.brokers,
      registryUrl: options.registryUrl,
      store,
      topic: options.samplesTopic,
      logger: options.logger ?? pino({ level: 'silent' }),
      registry,
      rules: options.headRules,
      // Keep what new blocks hold until the block list, re-read every catalogRefreshMs, shows them.
      holdMs: (options.catalogRefreshMs ?? 30_000) + 1000,
    });
  }
  // The derived topic's head reports no metrics of its own: one head's metric names per registry.
  const derived =
    head !== undefined && options.derivedTopic !== undefined && options.brokers !== undefined
      ? await startLogHead({
          brokers: options.brokers,
          registryUrl: options.registryUrl as string,
          store,
          topic: options.derivedTopic,
          logger: (options.logger ?? pino({ level: 'silent' })).child({ topic: options.derivedTopic }),
          rules: options.headRules,
          holdMs: (options.catalogRefreshMs ?? 30_000) + 1000,
        })
      : undefined;
  const live = head;
  const heads = [head, derived].filter((h): h is LogHead => h !== undefined);
  const events = eventQuerier(store, options);
  // Every query evaluates on a thread of its own, so none can hold up the others, the
  // health checks or the head's reading of the log; the data stays on this thread.
  const pool = new EvaluationPool({
    minThreads: options.evalThreads ?? 2,
    maxThreads: options.maxConcurrentQueries ?? 20,
    maxSamples: options.maxSamples,
    logger: options.logger,
    registry,
  });
  await pool.started();
  const server = await startQueryServer({
    answerer: pool,
    // The head first: where it and a block both hold a timestamp, the log's copy answers.
    querierFor: async (tenant, read) => {
      const stored = (await blocks.querier(tenant)).atResolution(read?.maxResolution ?? 0);
      return live === undefined ? stored : new MergeQuerier([...heads.map((h) => h.querier(tenant)), stored]);
    },
    downsampling: { autoDownsampling: options.autoDownsampling ?? false },
    configure: (app) => {
      if (live !== undefined)
        app.addHook(
          'onRequest',
          readConsistencyHook(
            { waitForLatest: async (ms) => void (await Promise.all(heads.map((h) => h.waitForLatest(ms)))) },
            options.readConsistencyTimeoutMs ?? 10_000,
          ),
        );
    },
    host: options.host,
    port: options.port,
    defaultTenant: options.defaultTenant,
    maxConcurrentQueries: options.maxConcurrentQueries,
    timeoutMs: options.timeoutMs,
    logger: options.logger ?? false,
    registry,
    now,
    events: events.querier,
    eventStream: events.stream,
  });
  return {
    ...server,
    close: async () => {
      // Running evaluations end first (their requests answer 503), so closing the server does not wait for them.
      await pool.close();
      await server.close();
      await live?.stop();
      await derived?.stop();
      await events.close();
    },
  };
}

/**
 * The events API's querier: the event segments of the bucket, merged with
 * the events topic's tail when the log is served too. Events without a
 * tenant attribute belong to the default tenant, as the event store places them.
 */
function eventQuerier(store: ObjectStore, options: ServeBlocksOptions) {
  const brokers = options.brokers ?? [];
  if (brokers.length === 0 || options.registryUrl === undefined)
    return { querier: new BucketEventQuerier({ store }), stream: undefined, close: async () => {} };
  const topic = options.eventsTopic ?? TOPICS.events;
  const serdes = createSerdes({ registryUrl: options.registryUrl, autoRegister: false });
  const client = createLogClient({ clientId: 'promstream-query-events', brokers, logger: options.logger });
  const tail = new LogEventTail({
    client,
    topic,
    store,
    decode: (v) => serdes.event.deserialize(topic, v),
    defaultTenant: options.defaultTenant ?? 'anonymous',
  });
  const decode = (v: Buffer) => serdes.event.deserialize(topic, v);
  const stream = new LogEventStream({
    client,
    topic,
    decode,
    defaultTenant: options.defaultTenant ?? 'anonymous',
  });
  return { querier: new BucketEventQuerier({ store, tail }), stream, close: () => client.close() };
}
