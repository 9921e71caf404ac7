import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import { refuseBadDataDir, refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

/** `promstream broker`: the embedded single-node Kafka-protocol broker. */
export const brokerRole: Role = {
  name: 'broker',
  summary: 'Run the embedded Kafka-protocol broker (durable segment files, consumer groups)',
  configure(command: Command): void {
    addConfigFlags(command, 'broker').action(async (_opts: unknown, cmd: Command) => {
      const [{ roleConfig, onShutdown, brokerDataDir }, { startBroker }, { default: pino }] =
        await Promise.all([import('../../config/index.js'), import('@promstream/broker'), import('pino')]);
      const config = roleConfig(cmd, 'broker');
      refuseBadDataDir('--data', brokerDataDir(config));
      await refuseBusyPorts([
        { host: config.broker.host, port: config.broker.port, flag: '--port' },
        { host: '127.0.0.1', port: config.broker.metricsPort, flag: '--metrics-port' },
      ]);
      const logger = pino({ name: 'broker', level: config.logLevel });
      const running = await startBroker({
        dataDir: brokerDataDir(config),
        host: config.broker.host,
        port: config.broker.port,
        advertisedHost: config.broker.advertisedHost,
        metricsPort: config.broker.metricsPort,
        defaultPartitions: config.broker.defaultPartitions,
        autoCreateTopics: config.broker.autoCreateTopics,
        logger,
      });
      onShutdown(logger, [{ name: 'broker', close: () => running.close() }]);
    });
  },
};
