import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import { refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

/** `promstream event-store`: the consumer group that turns the events topic into Parquet segments. */
export const eventStoreRole: Role = {
  name: 'event-store',
  summary:
    'Write promstream.events.v1 to the object store as Parquet segments, count events, apply retention',
  configure(command: Command): void {
    addConfigFlags(command, 'event-store').action(async (_opts: unknown, cmd: Command) => {
      const [
        { roleConfig, serveMetrics, onShutdown, objectStoreUrl, s3Settings, exitOnConfigError, ConfigError },
        { runEventStore },
        { tenantIdProblem },
        { default: pino },
        prom,
      ] = await Promise.all([
        import('../../config/index.js'),
        import('@promstream/stream-processors'),
        import('@promstream/storage'),
        import('pino'),
        import('prom-client'),
      ]);
      const config = roleConfig(cmd, 'event-store');
      const e = config.eventStore;
      const problem = tenantIdProblem(e.defaultTenant);
      if (problem !== undefined)
        exitOnConfigError(
          'event-store',
          new ConfigError('config_invalid', 'invalid configuration', [
            `eventStore.defaultTenant: ${problem}`,
          ]),
        );
      await refuseBusyPorts([{ host: '127.0.0.1', port: e.metricsPort, flag: '--metrics-port' }]);
      const logger = pino({ name: 'event-store', level: config.logLevel });
      const registry = new prom.Registry();
      prom.collectDefaultMetrics({ register: registry });
      const store = await runEventStore({
        brokers: config.kafka.brokers,
        registryUrl: config.registryUrl,
        storeUrl: objectStoreUrl(config),
        s3: s3Settings(config),
        topic: e.topic,
        groupId: e.groupId,
        derivedTopic: e.derivedTopic,
        defaultTenant: e.defaultTenant,
        maxSegmentBytes: e.maxSegmentBytes,
        maxSegmentAge: e.maxSegmentAge,
        retention: e.retention,
        logger,
        registry,
        // A consumer that gave up leaves nothing running: exit so the supervisor restarts the role.
        onCrash: () => process.exit(1),
      });
      const closeMetrics =
        e.metricsPort === undefined
          ? async () => {}
          : await serveMetrics(registry, '127.0.0.1', e.metricsPort);
      logger.info(
        { store: objectStoreUrl(config), brokers: config.kafka.brokers, topic: e.topic },
        'event store running',
      );
      onShutdown(logger, [
        { name: 'event store', close: () => store.stop() },
        { name: 'metrics', close: closeMetrics },
      ]);
    });
  },
};
