import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import { refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

/** `promstream gateway`: the Prometheus remote-write gateway (1.0 and 2.0) in front of the log. */
export const gatewayRole: Role = {
  name: 'gateway',
  summary: 'Accept Prometheus remote write 1.0/2.0 on /api/v1/write and acknowledge once the log holds it',
  configure(command: Command): void {
    addConfigFlags(command, 'gateway').action(async (_opts: unknown, cmd: Command) => {
      const [
        { roleConfig, onShutdown, tenantLimits },
        { startGateway, createLogWriters, defaultLimits },
        { default: pino },
      ] = await Promise.all([import('../../config/index.js'), import('@promstream/ingest'), import('pino')]);
      const config = roleConfig(cmd, 'gateway');
      await refuseBusyPorts([{ host: config.gateway.host, port: config.gateway.port, flag: '--port' }]);
      const logger = pino({ name: 'gateway', level: config.logLevel });
      const writers = createLogWriters({
        brokers: config.kafka.brokers,
        registryUrl: config.registryUrl,
        samplePartitions: config.kafka.samplesPartitions,
        clientId: 'promstream-gateway',
        logger,
      });
      const rate = config.gateway.tenantRate;
      const burst = config.gateway.tenantBurst ?? (rate === undefined ? 0 : rate * 10);
      const limits = tenantLimits(config, rate === undefined ? undefined : { samplesPerSecond: rate, burst });
      const gateway = await startGateway({
        sink: writers.samples,
        producer: writers.producer,
        host: config.gateway.host,
        port: config.gateway.port,
        defaultTenant: config.gateway.defaultTenant,
        rateLimit: limits.rate,
        sampleWindow: limits.window,
        limits: {
          ...defaultLimits,
          maxDecompressedBytes: config.gateway.maxDecompressedBytes,
          maxSeriesPerRequest: config.gateway.maxSeriesPerRequest,
        },
        logger,
      });
      logger.info({ url: gateway.url, brokers: config.kafka.brokers }, 'gateway listening');
      onShutdown(logger, [{ name: 'gateway', close: () => gateway.close() }]);
    });
  },
};
