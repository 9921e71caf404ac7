import type { Command } from 'commander';
import type { Role } from '../role.js';

/** `promstream block-builder`: the consumer group that turns the samples topic into blocks. */
export const blockBuilderRole: Role = {
  name: 'block-builder',
  summary: 'Cut blocks from promstream.samples.v1 into the object store, then commit the offsets',
  configure(command: Command): void {
    command
      .option('--block-duration <duration>', 'aligned block range, e.g. 2h (down to 1s for tests)')
      .option('--out-of-order-window <duration>', 'how late a sample may be and still be kept, e.g. 10m')
      .option('--future-grace <duration>', 'how far past its record time a sample may be, e.g. 10m')
      .option(
        '--backfill-idle <duration>',
        'log time a backfill range stays open after its last sample, e.g. 10m',
      )
      .option('--group-id <id>', 'consumer group of the builders of one deployment')
      .option('--topic <topic>', 'samples topic', 'promstream.samples.v1')
      .option(
        '--dead-letter-topic <topic>',
        'where records the builder gives up on go',
        'promstream.deadletter.v1',
      )
      .option('--session-timeout <duration>', 'consumer-group session timeout, e.g. 15s (6s and up)')
      .option('--metrics-port <port>', 'serve Prometheus /metrics on this port');
    addFlags(command);
    command.action(async (opts: Record<string, unknown>) => {
      const [
        { roleConfig, serveMetrics, onShutdown, objectStoreUrl, durationMs, ConfigError },
        { runBlockBuilder },
        { default: pino },
        prom,
        { armedFaultPoints, parseFaultSpec, FAULT_ENV },
      ] = await Promise.all([
        import('../../config/index.js'),
        import('@promstream/stream-processors'),
        import('pino'),
        import('prom-client'),
        import('../fault-points.js'),
      ]);
      const config = roleConfig(opts, {
        blockDuration: 'blockBuilder.blockDuration',
        outOfOrderWindow: 'blockBuilder.outOfOrderWindow',
        futureGrace: 'blockBuilder.futureGrace',
        backfillIdle: 'blockBuilder.backfillIdle',
        groupId: 'blockBuilder.groupId',
      });
      const sessionTimeout = sessionTimeoutOf(
        opts.sessionTimeout,
        durationMs,
        (message) => new ConfigError('config_invalid', message),
      );
      // Crash tests arm a fault point here; the builder itself never reads the environment.
      const fault = process.env[FAULT_ENV];
      const faults =
        fault === undefined || fault === '' ? undefined : armedFaultPoints(parseFaultSpec(fault));
      const logger = pino({ name: 'block-builder', level: config.logLevel });
      const registry = new prom.Registry();
      prom.collectDefaultMetrics({ register: registry });
      const builder = await runBlockBuilder({
        brokers: config.kafka.brokers,
        registryUrl: config.registryUrl,
        storeUrl: objectStoreUrl(config),
        topic: String(opts.topic),
        deadLetterTopic: String(opts.deadLetterTopic),
        sessionTimeout,
        faults,
        groupId: config.blockBuilder.groupId,
        blockDuration: config.blockBuilder.blockDuration,
        outOfOrderWindow: config.blockBuilder.outOfOrderWindow,
        futureGrace: config.blockBuilder.futureGrace,
        backfillIdle: config.blockBuilder.backfillIdle,
        logger,
        registry,
        // A consumer that gave up leaves nothing running: exit so the supervisor restarts the role.
        onCrash: () => process.exit(1),
      });
      const closeMetrics =
        opts.metricsPort === undefined
          ? async () => {}
          : await serveMetrics(registry, '127.0.0.1', Number(opts.metricsPort));
      logger.info({ store: objectStoreUrl(config), brokers: config.kafka.brokers }, 'block builder running');
      onShutdown(logger, async () => {
        await builder.stop();
        await closeMetrics();
      });
    });
  },
};

/** The --session-timeout flag in ms, or undefined when absent; a ConfigError when it is no duration. */
function sessionTimeoutOf(
  text: unknown,
  durationMs: (text: string) => number | undefined,
  invalid: (message: string) => Error,
): number | undefined {
  if (text === undefined) return undefined;
  const ms = durationMs(String(text));
  if (ms === undefined || ms < 1000)
    throw invalid(`--session-timeout ${String(text)}: expected a duration of 1s or more, e.g. 15s`);
  return ms;
}

function addFlags(command: Command): void {
  command.option('--config <file>', 'YAML configuration file (PROMSTREAM_CONFIG)');
  command.option('--brokers <list>', 'Kafka bootstrap brokers, host:port,... (KAFKA_BROKERS)');
  command.option('--registry <url>', 'schema registry URL (SCHEMA_REGISTRY_URL)');
  command.option(
    '--store <url>',
    'object store: file:///path, mem://, s3://bucket/prefix (default <data>/blocks)',
  );
  command.option('--data <dir>', 'data directory (PROMSTREAM_DATA, default ./data)');
  command.option('--log-level <level>', 'trace, debug, info, warn, error, silent');
}
