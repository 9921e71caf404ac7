import type { Command } from 'commander';
import { parsePort, parsePositiveInt } from '../parse.js';
import { refuseBadDataDir, refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

/** `promstream broker`: the embedded single-node Kafka-protocol broker. */
export const brokerRole: Role = {
  name: 'broker',
  summary: 'Run the embedded Kafka-protocol broker (durable segment files, consumer groups)',
  configure(command: Command): void {
    command
      .requiredOption('--data <dir>', 'directory of the log segments and broker state')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--port <port>', 'Kafka protocol port', parsePort, 9092)
      .option('--advertised-host <host>', 'host clients are told to connect to (default: the listen host)')
      .option('--metrics-port <port>', 'serve Prometheus /metrics on this port', parsePort)
      .option('--default-partitions <n>', 'partitions of auto-created topics', parsePositiveInt, 1)
      .option(
        '--no-auto-create-topics',
        'answer UNKNOWN_TOPIC_OR_PARTITION instead of creating topics on first use',
      )
      .action(async (opts: Record<string, unknown>) => {
        refuseBadDataDir('--data', String(opts.data));
        await refuseBusyPorts([
          { host: String(opts.host), port: opts.port as number, flag: '--port' },
          { host: '127.0.0.1', port: opts.metricsPort as number | undefined, flag: '--metrics-port' },
        ]);
        const [{ startBroker }, { default: pino }] = await Promise.all([
          import('@promstream/broker'),
          import('pino'),
        ]);
        const logger = pino({ name: 'broker' });
        const running = await startBroker({
          dataDir: String(opts.data),
          host: String(opts.host),
          port: opts.port as number,
          advertisedHost: opts.advertisedHost as string | undefined,
          metricsPort: opts.metricsPort as number | undefined,
          defaultPartitions: opts.defaultPartitions as number,
          autoCreateTopics: opts.autoCreateTopics !== false,
          logger,
        });
        const stop = (signal: string) => {
          logger.info({ signal }, 'stopping');
          void running.close().then(() => process.exit(0));
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
  },
};
