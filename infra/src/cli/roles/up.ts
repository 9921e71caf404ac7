import type { Command } from 'commander';
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
      .option('--port <port>', 'remote write and PromQL port', '9090')
      .option('--kafka-port <port>', 'Kafka protocol port of the embedded broker', '9092')
      .option('--block-duration <duration>', 'aligned block range', '2h')
      .option('--out-of-order-window <duration>', 'how late a sample may be', '10m')
      .option('--no-agent', 'do not run the local node agent')
      .option('--log-level <level>', 'log level of every role', 'info')
      .action(async (opts: Record<string, unknown>) => {
        const { runUp } = await import('../up/run-up.js');
        await runUp({
          dataDir: String(opts.data),
          host: String(opts.host),
          port: Number(opts.port),
          kafkaPort: Number(opts.kafkaPort),
          blockDuration: String(opts.blockDuration),
          outOfOrderWindow: String(opts.outOfOrderWindow),
          agent: opts.agent !== false,
          logLevel: String(opts.logLevel),
        });
      });
  },
};
