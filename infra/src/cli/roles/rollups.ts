import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import { refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

/** `promstream rollups`: streaming aggregation of the samples topic into the derived topic. */
export const rollupsRole: Role = {
  name: 'rollups',
  summary:
    'Aggregate promstream.samples.v1 by window and labels (vmagent stream aggregation rules) into promstream.derived.v1',
  configure(command: Command): void {
    addConfigFlags(command, 'rollups').action(async (_opts: unknown, cmd: Command) => {
      const [
        { roleConfig, serveMetrics, onShutdown, objectStoreUrl, openStore, exitOnConfigError, ConfigError },
        sp,
        { createSerdes, TOPICS },
        { readFileSync },
        { default: pino },
        prom,
      ] = await Promise.all([
        import('../../config/index.js'),
        import('@promstream/stream-processors'),
        import('@promstream/schemas'),
        import('node:fs'),
        import('pino'),
        import('prom-client'),
      ]);
      const config = roleConfig(cmd, 'rollups');
      const r = config.rollups;
      let rules: ReturnType<typeof sp.parseRollupConfig> = [];
      try {
        if (r.configFile === '') throw new Error('rollups.configFile: --rollup-config <file> is required');
        rules = sp.parseRollupConfig(readFileSync(r.configFile, 'utf8'));
        if (rules.length === 0) throw new Error(`rollups.configFile: ${r.configFile} has no rules`);
      } catch (err) {
        exitOnConfigError(
          'rollups',
          new ConfigError('config_invalid', 'invalid configuration', [(err as Error).message]),
        );
      }
      await refuseBusyPorts([{ host: '127.0.0.1', port: r.metricsPort, flag: '--metrics-port' }]);
      const logger = pino({ name: 'rollups', level: config.logLevel });
      const registry = new prom.Registry();
      prom.collectDefaultMetrics({ register: registry });
      const serdes = createSerdes({ registryUrl: config.registryUrl });
      const url = objectStoreUrl(config);
      const rollups = await sp.startRollups({
        brokers: config.kafka.brokers,
        rules,
        name: r.name,
        samplesTopic: config.kafka.samplesTopic,
        lateMs: r.lateness,
        decoder: sp.samplesDecoder(config.registryUrl, config.kafka.samplesTopic),
        encoder: sp.sampleBatchEncoder((batch) => serdes.sampleBatch.serialize(TOPICS.derived, batch)),
        store: new sp.ObjectRollupStateStore(openStore(config, url), r.name),
        logger,
        registry,
        // A consumer that gave up leaves nothing running: exit so the supervisor restarts the role.
        onCrash: () => process.exit(1),
      });
      const closeMetrics =
        r.metricsPort === undefined
          ? async () => {}
          : await serveMetrics(registry, '127.0.0.1', r.metricsPort);
      logger.info({ store: url, rules: rules.length, name: r.name }, 'rollups running');
      onShutdown(logger, [
        { name: 'rollups', close: () => rollups.stop() },
        { name: 'metrics', close: closeMetrics },
      ]);
    });
  },
};
