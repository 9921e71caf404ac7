import type { Command } from 'commander';
import { parsePort } from '../parse.js';
import { refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

function brokers(value: string): string[] {
  const list = value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (list.length === 0 || list.some((b) => !/^[^\s:]+:\d+$/.test(b))) {
    throw new Error(`brokers ${value}: expected HOST:PORT[,HOST:PORT...]`);
  }
  return list;
}

/** `promstream registry`: the embedded Confluent-compatible schema registry. */
export const registryRole: Role = {
  name: 'registry',
  summary: 'Run the schema registry (Confluent REST API, state in the compacted _schemas topic)',
  configure(command: Command): void {
    command
      .requiredOption('--brokers <list>', 'Kafka bootstrap brokers, HOST:PORT[,HOST:PORT...]', brokers)
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--port <port>', 'HTTP port of the REST API and /metrics', parsePort, 8081)
      .option('--topic <topic>', 'topic holding the registry state', '_schemas')
      .option(
        '--writable-pipeline-subjects',
        "let the pipeline's own subjects (promstream.*-value) be deleted and changed; by default they are read-only",
      )
      .action(async (opts: Record<string, unknown>) => {
        await refuseBusyPorts([{ host: String(opts.host), port: opts.port as number, flag: '--port' }]);
        const [{ startRegistry }, { default: pino }] = await Promise.all([
          import('@promstream/schemas'),
          import('pino'),
        ]);
        const logger = pino({ name: 'registry' });
        const running = await startRegistry({
          brokers: opts.brokers as string[],
          host: String(opts.host),
          port: opts.port as number,
          topic: String(opts.topic),
          writablePipelineSubjects: opts.writablePipelineSubjects === true,
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
