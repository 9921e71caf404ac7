import type { Command } from 'commander';
import { parsePort } from '../parse.js';
import type { Role } from '../role.js';

/** `promstream up`: every role on one machine, each in its own process, behind one address. */
export const upRole: Role = {
  name: 'up',
  summary:
    'Run everything on one machine: broker, registry, gateway, agent, block builder and query on :9090',
  configure(command: Command): void {
    command
      .option('--data <dir>', 'where the log and the blocks live', './data')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--port <port>', 'remote write and PromQL port', parsePort, 9090)
      .option('--kafka-port <port>', 'Kafka protocol port of the embedded broker', parsePort, 9092)
      .option(
        '--registry-port <port>',
        'port of the embedded schema registry (as Confluent: 8081)',
        parsePort,
        8081,
      )
      .option('--block-duration <duration>', 'aligned block range', '2h')
      .option('--out-of-order-window <duration>', 'how late a sample may be', '10m')
      .option('--no-agent', 'do not run the local node agent')
      .option('--log-level <level>', 'log level of every role', 'info')
      .action(async (opts: Record<string, unknown>) => {
        const { runUp } = await import('../up/run-up.js');
        await runUp({
          dataDir: String(opts.data),
          host: String(opts.host),
          port: opts.port as number,
          kafkaPort: opts.kafkaPort as number,
          registryPort: opts.registryPort as number,
          blockDuration: String(opts.blockDuration),
          outOfOrderWindow: String(opts.outOfOrderWindow),
          agent: opts.agent !== false,
          logLevel: String(opts.logLevel),
        });
      });
  },
};
