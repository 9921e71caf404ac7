import type { Command } from 'commander';
import type { Role } from '../role.js';

/** `promstream compactor`: compaction, downsampling and retention of a bucket, one compactor per bucket. */
export const compactorRole: Role = {
  name: 'compactor',
  summary: 'Compact blocks (2h → 8h → 2d → 14d), downsample to 5m and 1h, apply retention; one per bucket',
  configure(command: Command): void {
    command
      .option('--once', 'wait for the bucket lease, make one pass, exit')
      .option('--retention.resolution-raw <duration>', 'keep raw blocks this long, 0 forever', '0')
      .option('--retention.resolution-5m <duration>', 'keep 5m blocks this long, 0 forever', '0')
      .option('--retention.resolution-1h <duration>', 'keep 1h blocks this long, 0 forever', '0')
      .option('--levels <list>', 'compaction levels', '2h,8h,2d,14d')
      .option(
        '--downsample-5m-from <duration>',
        'block span from which raw blocks are downsampled to 5m',
        '40h',
      )
      .option(
        '--downsample-1h-from <duration>',
        'block span from which 5m blocks are downsampled to 1h',
        '10d',
      )
      .option('--downsampling.disable', 'do not downsample')
      .option('--delete-delay <duration>', 'time between a deletion mark and the deletion', '48h')
      .option(
        '--partial-upload-delay <duration>',
        'age after which a block without meta.json is deleted',
        '48h',
      )
      .option('--wait-interval <duration>', 'time between passes', '5m')
      .option('--lease-ttl <duration>', 'how long the bucket lease holds without renewal', '60s')
      .option('--metrics-port <port>', 'serve Prometheus /metrics on this port');
    command.option('--config <file>', 'YAML configuration file (PROMSTREAM_CONFIG)');
    command.option(
      '--store <url>',
      'object store: file:///path, mem://, s3://bucket/prefix (default <data>/blocks)',
    );
    command.option('--data <dir>', 'data directory (PROMSTREAM_DATA, default ./data)');
    command.option('--log-level <level>', 'trace, debug, info, warn, error, silent');
    command.action(async (opts: Record<string, unknown>) => {
      const [{ roleConfig, serveMetrics, onShutdown, objectStoreUrl }, sp, storage, { default: pino }, prom] =
        await Promise.all([
          import('../../config/index.js'),
          import('@promstream/stream-processors'),
          import('@promstream/storage'),
          import('pino'),
          import('prom-client'),
        ]);
      const config = roleConfig(opts);
      const logger = pino({ name: 'compactor', level: config.logLevel });
      const parse = (flag: string, text: string): number => {
        try {
          return sp.parseDuration(text);
        } catch (e) {
          console.error(`--${flag}: ${(e as Error).message}`);
          process.exit(2);
        }
      };
      const duration = (flag: string): number => parse(flag, String(opts[camel(flag)]));
      const registry = new prom.Registry();
      prom.collectDefaultMetrics({ register: registry });
      const url = objectStoreUrl(config);
      const compactor = sp.startCompactor({
        store: storage.objectStoreFromUrl(url),
        logger,
        registry,
        once: opts.once === true,
        levels: String(opts.levels)
          .split(',')
          .map((l) => parse('levels', l)),
        downsample: opts[camel('downsampling.disable')] !== true,
        downsampleRanges: { to5m: duration('downsample-5m-from'), to1h: duration('downsample-1h-from') },
        retention: {
          raw: duration('retention.resolution-raw'),
          '5m': duration('retention.resolution-5m'),
          '1h': duration('retention.resolution-1h'),
        },
        deleteDelayMs: duration('delete-delay'),
        partialUploadDelayMs: duration('partial-upload-delay'),
        intervalMs: duration('wait-interval'),
        leaseTtlMs: duration('lease-ttl'),
      });
      const closeMetrics =
        opts.metricsPort === undefined
          ? async () => {}
          : await serveMetrics(registry, '127.0.0.1', Number(opts.metricsPort));
      logger.info({ store: url, once: opts.once === true }, 'compactor running');
      if (opts.once === true) {
        try {
          await compactor.done;
        } finally {
          await closeMetrics();
        }
        return;
      }
      onShutdown(logger, async () => {
        await compactor.stop();
        await closeMetrics();
      });
    });
  },
};

/** The key commander gives a flag's value: dashes dropped, the next letter upper-cased (dots kept). */
function camel(flag: string): string {
  return flag.replace(/-(.)/g, (_, c: string) => c.toUpperCase());
}
