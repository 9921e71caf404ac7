import Fastify, { type FastifyError } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Gauge, Registry as MetricsRegistry } from 'prom-client';
import { TOPICS } from '../topics.js';
import { RegistryError, RegistryErrorCode } from './errors.js';
import { SchemasLog } from './log.js';
import { pipelineSubjects } from './protection.js';
import { Registry } from './registry.js';
import { registryRoutes } from './routes.js';
import { RegistryState } from './state.js';

/** Options of the embedded schema registry. */
export interface RegistryOptions {
  brokers: string[];
  port: number;
  /** Address to listen on; 127.0.0.1 by default. */
  host?: string;
  logger?: Logger;
  /** The topic holding the registry's state; `_schemas` by default. */
  topic?: string;
  /** How long a write may take before it fails with 50002. */
  writeTimeoutMs?: number;
  /**
   * Lets the pipeline's own subjects (`promstream.*-value`) be deleted and
   * changed like any other; by default they are read-only (see protection.ts).
   */
  writablePipelineSubjects?: boolean;
}

/** A running registry. */
export interface RunningRegistry {
  /** The base URL clients use, e.g. `http://127.0.0.1:8081`. */
  url: string;
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/**
 * The registry's fastify app before its routes: JSON bodies under every
 * content type Confluent's clients send, errors in Confluent's shape, the
 * request counter and `/metrics`.
 */
function registryApp(
  metrics: MetricsRegistry,
  requests: Counter<'route' | 'code'>,
  logger: Logger | undefined,
) {
  const app = Fastify({ logger: false });
  const parseJson = (_req: unknown, body: string, done: (err: Error | null, value?: unknown) => void) => {
    if (body.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body));
    } catch (err) {
      done(
        new RegistryError(
          RegistryErrorCode.BadRequest,
          `Unrecognized request body: ${(err as Error).message}`,
        ),
      );
    }
  };
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    [
      'application/json',
      'application/vnd.schemaregistry.v1+json',
      'application/vnd.schemaregistry+json',
      'application/octet-stream',
    ],
    { parseAs: 'string' },
    parseJson,
  );
  app.addHook('onRequest', async (_req, reply) => {
    reply.header('content-type', CONTENT_TYPE);
  });
  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ route: req.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) });
  });
  app.setErrorHandler((err: FastifyError | RegistryError, _req, reply) => {
    if (err instanceof RegistryError) {
      if (err.status >= 500) logger?.error({ err }, 'registry request failed');
      return reply.status(err.status).type(CONTENT_TYPE).send(err.toJSON());
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) logger?.error({ err }, 'registry request failed');
    return reply
      .status(status)
      .type(CONTENT_TYPE)
      .send({ error_code: status >= 500 ? RegistryErrorCode.StoreError : status, message: err.message });
  });
  app.setNotFoundHandler((_req, reply) =>
    reply.status(404).type(CONTENT_TYPE).send({ error_code: 404, message: 'HTTP 404 Not Found' }),
  );
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
  return app;
}

/**
 * Starts the embedded schema registry: reads its topic to the end, then
 * serves Confluent's REST API (and `/metrics`) on host:port. Port 0 picks a
 * free port; the answer's url has the real one.
 */
export async function startRegistry(options: RegistryOptions): Promise<RunningRegistry> {
  const topic = options.topic ?? TOPICS.schemas;
  const logger = options.logger;
  const state = new RegistryState(options.writablePipelineSubjects === true ? new Map() : pipelineSubjects());
  const log = new SchemasLog({
    brokers: options.brokers,
    topic,
    logger,
    writeTimeoutMs: options.writeTimeoutMs,
  });
  const metrics = new MetricsRegistry();
  const requests = new Counter({
    name: 'promstream_registry_requests_total',
    help: 'REST requests answered, by route and status code',
    labelNames: ['route', 'code'],
    registers: [metrics],
  });
  const records = new Counter({
    name: 'promstream_registry_log_records_total',
    help: 'Records read from the registry topic, by outcome',
    labelNames: ['outcome'],
    registers: [metrics],
  });
  new Gauge({
    name: 'promstream_registry_subjects',
    help: 'Subjects with a live schema version',
    registers: [metrics],
    collect() {
      this.set(state.subjectNames().length);
    },
  });
  new Gauge({
    name: 'promstream_registry_log_position',
    help: 'Offset after the last record read from the registry topic',
    registers: [metrics],
    collect() {
      this.set(log.readPosition);
    },
  });

  await log.start((key, value, offset) => {
    const { skipped, ignored } = state.apply(key, value);
    records.inc({
      outcome: skipped !== undefined ? 'skipped' : ignored !== undefined ? 'ignored' : 'applied',
    });
    if (skipped !== undefined)
      logger?.warn({ offset, err: skipped.message }, 'skip an unreadable registry record');
    if (ignored !== undefined)
      logger?.warn(
        { offset, key: key?.toString('utf8').slice(0, 200), reason: ignored },
        'ignore a registry record that would reuse a schema id or change a protected subject',
      );
  });
  state.caughtUp();
  logger?.info(
    { topic, records: state.applied, ignored: state.ignored, subjects: state.subjectNames().length },
    'registry state read',
  );

  const app = registryApp(metrics, requests, logger);
  await app.register(registryRoutes, { registry: new Registry(state, log) });

  try {
    await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  } catch (err) {
    await log.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host =
    options.host === undefined || options.host === '0.0.0.0' || options.host === '::'
      ? '127.0.0.1'
      : options.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger?.info({ url, topic }, 'schema registry listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    close: () => {
      closing ??= (async () => {
        await app.close();
        await log.close();
      })();
      return closing;
    },
  };
}
