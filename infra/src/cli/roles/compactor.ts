import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import { refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

/** `promstream compactor`: compaction, downsampling and retention of a bucket, one compactor per bucket. */
export const compactorRole: Role = {
  name: 'compactor',
  summary: 'Compact blocks (2h → 8h → 2d → 14d), downsample to 5m and 1h, apply retention; one per bucket',
  configure(command: Command): void {
    addConfigFlags(command, 'compactor').action(async (_opts: unknown, cmd: Command) => {
      const [
        { roleConfig, serveMetrics, onShutdown, objectStoreUrl, openStore, exitOnConfigError, ConfigError },
        { startCompactor },
        { parseDuration },
        { default: pino },
        prom,
      ] = await Promise.all([
        import('../../config/index.js'),
        import('@promstream/stream-processors'),
        import('@promstream/storage'),
        import('pino'),
        import('prom-client'),
      ]);
      const config = roleConfig(cmd, 'compactor');
      const c = config.compactor;
      const levels = c.levels.split(',').map((l) => parseDuration(l.trim()));
      if (levels.some((l) => l === undefined || l <= 0)) {
        const problem = `compactor.levels: expected positive durations such as 2h,8h,2d, got ${JSON.stringify(c.levels)}`;
        exitOnConfigError('compactor', new ConfigError('config_invalid', 'invalid configuration', [problem]));
      }
      await refuseBusyPorts([{ host: '127.0.0.1', port: c.metricsPort, flag: '--metrics-port' }]);
      const logger = pino({ name: 'compactor', level: config.logLevel });
      const registry = new prom.Registry();
      prom.collectDefaultMetrics({ register: registry });
      const url = objectStoreUrl(config);
      const compactor = startCompactor({
        store: openStore(config, url),
        logger,
        registry,
        once: c.once,
        levels: levels as number[],
        downsample: !c.downsamplingDisable,
        downsampleRanges: { to5m: c.downsample5mFrom, to1h: c.downsample1hFrom },
        retention: { raw: c.retentionRaw, '5m': c.retention5m, '1h': c.retention1h },
        deleteDelayMs: c.deleteDelay,
        partialUploadDelayMs: c.partialUploadDelay,
        intervalMs: c.waitInterval,
        leaseTtlMs: c.leaseTtl,
      });
      const closeMetrics =
        c.metricsPort === undefined
          ? async () => {}
          : await serveMetrics(registry, '127.0.0.1', c.metricsPort);
      logger.info({ store: url, once: c.once }, 'compactor running');
      if (c.once) {
        try {
          await compactor.done;
        } finally {
          await closeMetrics();
        }
        return;
      }
      onShutdown(logger, [
        { name: 'compactor', close: () => compactor.stop() },
        { name: 'metrics', close: closeMetrics },
      ]);
    });
  },
};
