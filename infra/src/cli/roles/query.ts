import type { Command } from 'commander';
import { parseDurationFlag, parseNonNegativeInt, parsePort, parsePositiveInt } from '../parse.js';
import { refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

/** The placement rules given by flags, the builder's defaults for the others. */
function headRules(opts: Record<string, unknown>) {
  const window = (opts.outOfOrderWindow as number | undefined) ?? 600_000;
  return {
    blockDuration: (opts.blockDuration as number | undefined) ?? 7_200_000,
    outOfOrderWindow: window,
    futureGrace: (opts.futureGrace as number | undefined) ?? 600_000,
    backfillIdle: (opts.backfillIdle as number | undefined) ?? Math.max(window, 60_000),
  };
}

/** `promstream query`: the Prometheus HTTP API over the blocks of an object store. */
export const queryRole: Role = {
  name: 'query',
  summary: 'Serve the Prometheus HTTP API (PromQL) over the blocks in an object store',
  configure(command: Command): void {
    command
      .requiredOption(
        '--store <url>',
        'object store: file:///path, mem://, or s3://bucket/prefix?endpoint=...',
      )
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--port <port>', 'HTTP port', parsePort, 9090)
      .option('--default-tenant <id>', 'tenant for requests without X-Scope-OrgID', 'anonymous')
      .option(
        '--max-concurrent-queries <n>',
        'queries evaluated at once; more wait in a queue',
        parsePositiveInt,
        20,
      )
      .option('--query-timeout <duration>', 'longest a query may run', parseDurationFlag, 120_000)
      .option('--max-samples <n>', 'samples one query may load at once', parsePositiveInt, 50_000_000)
      .option('--brokers <list>', 'Kafka brokers (host:port,...): also serve the log tail not yet in blocks')
      .option('--registry <url>', 'schema registry URL, to decode the log (with --brokers)')
      .option(
        '--cache-bytes <n>',
        'memory for index entries and chunk bytes already read from blocks (0: read the store every time)',
        parseNonNegativeInt,
        256 * 1024 * 1024,
      )
      .option(
        '--catalog-refresh <duration>',
        'how often the block list is read again',
        parseDurationFlag,
        30_000,
      )
      .option(
        '--block-duration <duration>',
        "the block builder's block duration (for the log tail)",
        parseDurationFlag,
      )
      .option(
        '--out-of-order-window <duration>',
        "the block builder's out-of-order window",
        parseDurationFlag,
      )
      .option('--future-grace <duration>', "the block builder's future grace period", parseDurationFlag)
      .option('--backfill-idle <duration>', "the block builder's backfill idle time", parseDurationFlag)
      .action(async (opts: Record<string, unknown>) => {
        await refuseBusyPorts([{ host: String(opts.host), port: opts.port as number, flag: '--port' }]);
        const [{ serveBlocks }, { default: pino }] = await Promise.all([
          import('@promstream/query'),
          import('pino'),
        ]);
        const logger = pino({ name: 'query' });
        const running = await serveBlocks({
          store: String(opts.store),
          host: String(opts.host),
          port: opts.port as number,
          defaultTenant: String(opts.defaultTenant),
          maxConcurrentQueries: opts.maxConcurrentQueries as number,
          timeoutMs: opts.queryTimeout as number,
          maxSamples: opts.maxSamples as number,
          catalogRefreshMs: opts.catalogRefresh as number,
          cacheBytes: opts.cacheBytes as number,
          brokers:
            opts.brokers === undefined
              ? undefined
              : String(opts.brokers)
                  .split(',')
                  .map((b) => b.trim())
                  .filter((b) => b !== ''),
          registryUrl: opts.registry as string | undefined,
          // The head places samples by the builder's rules; its state names them once it saved one.
          headRules: headRules(opts),
          logger,
        });
        logger.info({ url: running.url, store: String(opts.store) }, 'serving the Prometheus API');
        const stop = (signal: string) => {
          logger.info({ signal }, 'stopping');
          // Running evaluations are terminated by close(); should anything else hang, leave anyway.
          setTimeout(() => {
            logger.warn({ signal }, 'stop took over 5 s: exiting');
            process.exit(0);
          }, 5000).unref();
          void running.close().then(
            () => process.exit(0),
            (err: unknown) => {
              logger.error({ err }, 'stop');
              process.exit(1);
            },
          );
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
  },
};
