import type { Command } from 'commander';
import { parsePort, parsePositiveNumber } from '../parse.js';
import { refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `promstream agent`: the node agent (host collectors, events, exporter scraping, plugins, disk buffer). */
export const agentRole: Role = {
  name: 'agent',
  summary: 'Collect host metrics and kernel/OS events, scrape exporters, run plugins, and publish to the log',
  configure(command: Command): void {
    command
      .option('--config <file>', 'YAML configuration file (PROMSTREAM_CONFIG)')
      .option('--brokers <list>', 'Kafka bootstrap brokers, host:port,... (KAFKA_BROKERS)')
      .option('--registry <url>', 'schema registry URL (SCHEMA_REGISTRY_URL)')
      .option('--data <dir>', 'data directory; the disk buffer lives in <data>/agent (PROMSTREAM_DATA)')
      .option('--log-level <level>', 'trace, debug, info, warn, error, silent')
      .option('--host <host>', 'address of /metrics and the local query API', '127.0.0.1')
      .option('--port <port>', 'HTTP port of /metrics and the local query API', parsePort, 9100)
      .option(
        '--hostname <name>',
        'host name put on series (instance) and events (default: the OS host name)',
      )
      .option('--tenant <id>', 'tenant the samples are written for', 'anonymous')
      .option('--interval <seconds>', 'collection interval', parsePositiveNumber, 15)
      .option('--buffer-size <MiB>', 'bound of the disk buffer', parsePositiveNumber, 256)
      .option('--scrape <job=url>', 'scrape a Prometheus exporter (repeatable)', collect)
      .option('--plugin <name=command>', 'run an external collector plugin (repeatable)', collect)
      .option('--no-kernel-log', 'do not read /dev/kmsg')
      .action(async (opts: Record<string, unknown>) => {
        const [{ roleConfig, onShutdown }, { startAgent, createLogWriters }, { default: pino }, path] =
          await Promise.all([
            import('../../config/index.js'),
            import('@promstream/ingest'),
            import('pino'),
            import('node:path'),
          ]);
        const config = roleConfig(opts);
        await refuseBusyPorts([{ host: String(opts.host), port: opts.port as number, flag: '--port' }]);
        const logger = pino({ name: 'agent', level: config.logLevel });
        const pairs = (list: unknown, what: string) =>
          ((list as string[] | undefined) ?? []).map((s) => {
            const i = s.indexOf('=');
            if (i <= 0) {
              console.error(`${what} ${s}: expected NAME=VALUE`);
              process.exit(2);
            }
            return [s.slice(0, i), s.slice(i + 1)] as const;
          });
        const writers = createLogWriters({
          brokers: config.kafka.brokers,
          registryUrl: config.registryUrl,
          samplePartitions: config.kafka.samplesPartitions,
          clientId: 'promstream-agent',
          logger,
        });
        const agent = await startAgent({
          samples: writers.samples,
          // Samples the buffer held through an outage go as backfill once a live range may be cut:
          // after half the builder's out-of-order window, a minute at most.
          backfillSamples: writers.backfillSamples,
          backfillAfterMs: Math.min(60_000, Math.floor(config.blockBuilder.outOfOrderWindow / 2)),
          events: writers.events,
          dataDir: path.join(config.dataDir, 'agent'),
          tenant: String(opts.tenant),
          host: opts.hostname as string | undefined,
          intervalMs: (opts.interval as number) * 1000,
          port: opts.port as number,
          listenHost: String(opts.host),
          bufferBytes: Math.round((opts.bufferSize as number) * 1024 * 1024),
          scrapeTargets: pairs(opts.scrape, '--scrape').map(([job, url]) => ({ job, url })),
          plugins: pairs(opts.plugin, '--plugin').map(([name, cmd]) => ({
            name,
            command: 'sh',
            args: ['-c', cmd],
          })),
          kernelLog: opts.kernelLog === false ? false : undefined,
          logger,
          onClose: () => writers.producer.close(),
        });
        logger.info({ url: agent.url, brokers: config.kafka.brokers }, 'agent running');
        onShutdown(logger, () => agent.close());
      });
  },
};
