import type { LogProducer } from '@promstream/log';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { SampleBatchSink } from '../log/sample-sink.js';
import type { ValidationLimits } from '../remote-write/validate.js';
import type { SampleWindow } from '../remote-write/window.js';
import { remoteWritePlugin } from './plugin.js';
import { type RateLimit, TenantRateLimiter } from './rate-limiter.js';

/** Options of a gateway server. */
export interface GatewayOptions {
  /** Where validated series go (the log sink in production). */
  sink: SampleBatchSink;
  /** Closed with the gateway when given. */
  producer?: LogProducer;
  port?: number;
  host?: string;
  limits?: ValidationLimits;
  /** Ingestion rate per tenant; undefined means unlimited. */
  rateLimit?: (tenant: string) => RateLimit | undefined;
  /** The window of sample timestamps per tenant; undefined means ten minutes each way. */
  sampleWindow?: (tenant: string) => SampleWindow | undefined;
  defaultTenant?: string;
  /** Largest compressed body accepted, in bytes. */
  bodyLimit?: number;
  logger?: Logger;
  now?: () => number;
}

/** A running gateway. */
export interface Gateway {
  app: FastifyInstance;
  /** http://host:port */
  url: string;
  port: number;
  registry: Registry;
  close(): Promise<void>;
}

/**
 * Starts the remote-write gateway: `POST /api/v1/write`, `GET /metrics`,
 * `GET /-/ready`. Listens before it resolves.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const logger = options.logger ?? pino({ name: 'gateway' });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'promstream_gateway_' });
  const bodyLimit = options.bodyLimit ?? 64 * 1024 * 1024;
  const app: FastifyInstance = Fastify({
    loggerInstance: logger.child({}, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit,
  });
  const limiter = new TenantRateLimiter(options.rateLimit ?? (() => undefined), options.now);
  await app.register(remoteWritePlugin, {
    sink: options.sink,
    limiter,
    registry,
    logger,
    limits: options.limits,
    sampleWindow: options.sampleWindow,
    defaultTenant: options.defaultTenant,
    bodyLimit,
    now: options.now,
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.get('/-/ready', async () => 'ready\n');
  await app.listen({ port: options.port ?? 9091, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 9091);
  const host = options.host ?? '127.0.0.1';
  return {
    app,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    registry,
    async close() {
      await app.close();
      await options.producer?.close();
    },
  };
}
