import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import { refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

/** `promstream block-builder`: the consumer group that turns the samples topic into blocks. */
export const blockBuilderRole: Role = {
  name: 'block-builder',
  summary: 'Cut blocks from promstream.samples.v1 into the object store, then commit the offsets',
  configure(command: Command): void {
    addConfigFlags(command, 'block-builder').action(async (_opts: unknown, cmd: Command) => {
      const [
        { roleConfig, serveMetrics, onShutdown, objectStoreUrl, s3Settings },
        { runBlockBuilder, parseRollupConfig },
        { readFileSync },
        { default: pino },
        prom,
        { armedFaultPoints, parseFaultSpec, FAULT_ENV },
      ] = await Promise.all([
        import('../../config/index.js'),
        import('@promstream/stream-processors'),
        import('node:fs'),
        import('pino'),
        import('prom-client'),
        import('../fault-points.js'),
      ]);
      const config = roleConfig(cmd, 'block-builder');
      await refuseBusyPorts([
        { host: '127.0.0.1', port: config.blockBuilder.metricsPort, flag: '--metrics-port' },
      ]);
      // Crash tests arm a fault point here; the builder itself never reads the environment.
      const fault = process.env[FAULT_ENV];
      const faults =
        fault === undefined || fault === '' ? undefined : armedFaultPoints(parseFaultSpec(fault));
      const logger = pino({ name: 'block-builder', level: config.logLevel });
      const registry = new prom.Registry();
      prom.collectDefaultMetrics({ register: registry });
      const { blockBuilder: b } = config;
      const builder = await runBlockBuilder({
        brokers: config.kafka.brokers,
        registryUrl: config.registryUrl,
        storeUrl: objectStoreUrl(config),
        s3: s3Settings(config),
        topic: config.kafka.samplesTopic,
        groupId: b.groupId,
        blockDuration: b.blockDuration,
        outOfOrderWindow: b.outOfOrderWindow,
        futureGrace: b.futureGrace,
        backfillIdle: b.backfillIdle,
        deadLetterTopic: b.deadLetterTopic,
        sessionTimeout: b.sessionTimeout,
        faults,
        // keep_input: false of the rollup rules is honoured here, where raw samples are stored.
        rollupRules:
          config.rollups.configFile === ''
            ? undefined
            : parseRollupConfig(readFileSync(config.rollups.configFile, 'utf8')),
        logger,
        registry,
        // A consumer that gave up leaves nothing running: exit so the supervisor restarts the role.
        onCrash: () => process.exit(1),
      });
      const closeMetrics =
        b.metricsPort === undefined
          ? async () => {}
          : await serveMetrics(registry, '127.0.0.1', b.metricsPort);
      logger.info({ store: objectStoreUrl(config), brokers: config.kafka.brokers }, 'block builder running');
      onShutdown(logger, [
        { name: 'block builder', close: () => builder.stop() },
        { name: 'metrics', close: closeMetrics },
      ]);
    });
  },
};
