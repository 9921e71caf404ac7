import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import { refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

/** `promstream registry`: the embedded Confluent-compatible schema registry. */
export const registryRole: Role = {
  name: 'registry',
  summary: 'Run the schema registry (Confluent REST API, state in the compacted _schemas topic)',
  configure(command: Command): void {
    addConfigFlags(command, 'registry').action(async (_opts: unknown, cmd: Command) => {
      const [{ roleConfig, onShutdown }, { startRegistry }, { default: pino }] = await Promise.all([
        import('../../config/index.js'),
        import('@promstream/schemas'),
        import('pino'),
      ]);
      const config = roleConfig(cmd, 'registry');
      await refuseBusyPorts([{ host: config.registry.host, port: config.registry.port, flag: '--port' }]);
      const logger = pino({ name: 'registry', level: config.logLevel });
      const running = await startRegistry({
        brokers: config.kafka.brokers,
        host: config.registry.host,
        port: config.registry.port,
        topic: config.registry.topic,
        writablePipelineSubjects: config.registry.writablePipelineSubjects,
        logger,
      });
      onShutdown(logger, [{ name: 'registry', close: () => running.close() }]);
    });
  },
};
