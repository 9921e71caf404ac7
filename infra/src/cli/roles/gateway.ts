import type { Command } from 'commander';
import { parseDurationFlag, parsePort, parsePositiveInt, parsePositiveNumber } from '../parse.js';
import { refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

/** `promstream gateway`: the Prometheus remote-write gateway (1.0 and 2.0) in front of the log. */
export const gatewayRole: Role = {
  name: 'gateway',
  summary: 'Accept Prometheus remote write 1.0/2.0 on /api/v1/write and acknowledge once the log holds it',
  configure(command: Command): void {
    command
      .option('--config <file>', 'YAML configuration file (PROMSTREAM_CONFIG)')
      .option('--brokers <list>', 'Kafka bootstrap brokers, host:port,... (KAFKA_BROKERS)')
      .option('--registry <url>', 'schema registry URL (SCHEMA_REGISTRY_URL)')
      .option('--log-level <level>', 'trace, debug, info, warn, error, silent')
      .option('--host <host>', 'address to listen on')
      .option('--port <port>', 'HTTP port of /api/v1/write and /metrics', parsePort)
      .option(
        '--tenant-rate <samples/s>',
        'ingestion rate per tenant in samples per second (default unlimited)',
        parsePositiveNumber,
      )
      .option('--tenant-burst <samples>', 'burst per tenant (default: 10 s of the rate)', parsePositiveNumber)
      .option('--default-tenant <id>', 'tenant of requests without X-Scope-OrgID', 'anonymous')
      .option(
        '--out-of-order-window <duration>',
        "the block builder's out-of-order window: older samples are refused as out of bounds (PROMSTREAM_OUT_OF_ORDER_WINDOW, default 10m)",
      )
      .option('--past-window <duration>', 'how old a sample may be, when not the out-of-order window')
      .option(
        '--creation-grace-period <duration>',
        'how far into the future a sample may be (default 10m)',
        parseDurationFlag,
      )
      .option(
        '--max-decompressed-bytes <bytes>',
        'largest request body once decompressed (default 100 MiB)',
        parsePositiveInt,
      )
      .option('--max-series-per-request <n>', 'most series in one request (default 200000)', parsePositiveInt)
      .action(async (opts: Record<string, unknown>) => {
        const [
          { roleConfig, onShutdown, tenantLimits },
          { startGateway, createLogWriters, defaultLimits },
          { default: pino },
        ] = await Promise.all([
          import('../../config/index.js'),
          import('@promstream/ingest'),
          import('pino'),
        ]);
        const config = roleConfig(opts, {
          host: 'gateway.host',
          port: 'gateway.port',
          outOfOrderWindow: 'blockBuilder.outOfOrderWindow',
          pastWindow: 'gateway.pastWindow',
          creationGracePeriod: 'gateway.creationGracePeriod',
          maxDecompressedBytes: 'gateway.maxDecompressedBytes',
          maxSeriesPerRequest: 'gateway.maxSeriesPerRequest',
        });
        await refuseBusyPorts([{ host: config.gateway.host, port: config.gateway.port, flag: '--port' }]);
        const logger = pino({ name: 'gateway', level: config.logLevel });
        const writers = createLogWriters({
          brokers: config.kafka.brokers,
          registryUrl: config.registryUrl,
          samplePartitions: config.kafka.samplesPartitions,
          clientId: 'promstream-gateway',
          logger,
        });
        const rate = opts.tenantRate as number | undefined;
        const burst = (opts.tenantBurst as number | undefined) ?? (rate === undefined ? 0 : rate * 10);
        const limits = tenantLimits(
          config,
          rate === undefined ? undefined : { samplesPerSecond: rate, burst },
        );
        const gateway = await startGateway({
          sink: writers.samples,
          producer: writers.producer,
          host: config.gateway.host,
          port: config.gateway.port,
          defaultTenant: String(opts.defaultTenant),
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
        onShutdown(logger, () => gateway.close());
      });
  },
};
