import { checkTenantId } from '@promstream/storage';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { ApiError, errorBody } from './api/errors.js';
import { QueryGate } from './api/gate.js';
import { prometheusApi } from './api/index.js';
import type { DownsamplingDefaults } from './api/resolution-param.js';
import type { ApiServices, BuildInfo, PromqlSyntax, ReadOptions } from './api/services.js';
import { promqlSyntax } from './api/syntax.js';
import type { QueryEngine } from './engine-types.js';
import { inlineAnswerer, type QueryAnswerer } from './evaluation/answerer.js';
import type { EventQuerier } from './events/event-querier.js';
import type { EventStreamSource } from './events/event-stream.js';
import { formatExpr } from './promql/format.js';
import type { Querier } from './querier.js';

/** How to build the query server. */
export interface QueryServerOptions {
  /** Evaluates on the calling thread; used when no `answerer` is given. */
  engine?: QueryEngine;
  /** Evaluates queries and writes their answers (the query role passes its evaluation pool). */
  answerer?: QueryAnswerer;
  /** The querier over one tenant's data (blocks, head, or their merge), reading resolutions up to the options'. */
  querierFor(tenant: string, read?: ReadOptions): Querier | Promise<Querier>;
  /** How queries pick their resolution when they do not name one (default: raw only). */
  downsampling?: DownsamplingDefaults;
  /** The PromQL parser services for match[], format_query and parse_query (default: the engine's parser). */
  syntax?: PromqlSyntax;
  /** Listen address (default 127.0.0.1) and port (default 9090; 0 picks a free one). */
  host?: string;
  port?: number;
  /** Queries evaluated at once; more wait in a queue (default 20, as Prometheus). */
  maxConcurrentQueries?: number;
  /** Longest a query may run, milliseconds (default 2 minutes). */
  timeoutMs?: number;
  /** Tenant for requests without `X-Scope-OrgID` (default `default`). */
  defaultTenant?: string;
  /** A pino logger, or false for none (default false). */
  logger?: Logger | false;
  /** Registry for `/metrics` (default a new one with the process metrics). */
  registry?: Registry;
  buildInfo?: Partial<BuildInfo>;
  now?: () => number;
  /**
   * Adds hooks or routes before the API is registered (e.g. the head's
   * read-consistency `onRequest` hook, or the remote-write gateway in the all-in-one).
   */
  configure?: (app: FastifyInstance) => void | Promise<void>;
  /** Serves `/api/v1/events` from this querier (the event segments and the log tail). */
  events?: EventQuerier;
  /** Serves `/api/v1/events/stream` from this source (the events topic). */
  eventStream?: EventStreamSource;
  /** Bytes a stream subscriber may leave unread before it is cut off (default 1 MiB). */
  eventStreamMaxUnreadBytes?: number;
}

/** A running query server. */
export interface QueryServer {
  readonly app: FastifyInstance;
  /** Base URL, e.g. `http://127.0.0.1:9090`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_BUILD_INFO: BuildInfo = {
  version: '3.5.0',
  revision: 'promstream',
  branch: 'main',
  buildUser: 'promstream',
  buildDate: '',
  goVersion: 'node',
};

/**
 * Builds the fastify app with the Prometheus API and `/metrics`, without
 * listening (tests inject requests into it).
 */
export async function buildQueryApp(options: QueryServerOptions): Promise<FastifyInstance> {
  const defaultTenant = options.defaultTenant ?? 'anonymous';
  // A default tenant the rule refuses would be a bucket prefix no entry point accepts: refuse it at start.
  checkTenantId(defaultTenant);
  const registry = options.registry ?? defaultRegistry();
  const gate = new QueryGate(options.maxConcurrentQueries ?? 20);
  const duration = new Histogram({
    name: 'promstream_query_duration_seconds',
    help: 'Time from a query request to its answer, by endpoint and outcome.',
    labelNames: ['endpoint', 'outcome'],
    buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2, 10, 60],
    registers: [registry],
  });
  new Gauge({
    name: 'promstream_query_concurrent',
    help: 'Queries being evaluated now.',
    registers: [registry],
    collect() {
      this.set(gate.running);
    },
  });
  new Gauge({
    name: 'promstream_query_queued',
    help: 'Queries waiting for a slot.',
    registers: [registry],
    collect() {
      this.set(gate.queued);
    },
  });
  const answerer =
    options.answerer ?? (options.engine === undefined ? undefined : inlineAnswerer(options.engine));
  if (answerer === undefined) throw new TypeError('query server: an engine or an answerer is required');
  const services: ApiServices = {
    answerer,
    querierFor: options.querierFor,
    downsampling: options.downsampling,
    syntax: options.syntax ?? promqlSyntax(formatExpr),
    gate,
    timeoutMs: options.timeoutMs ?? 120_000,
    defaultTenant,
    buildInfo: { ...DEFAULT_BUILD_INFO, ...options.buildInfo },
    instruments: {
      observeQuery: (endpoint, outcome, seconds) => duration.observe({ endpoint, outcome }, seconds),
    },
    now: options.now ?? Date.now,
    events: options.events,
    eventStream: options.eventStream,
    maxUnreadBytes: options.eventStreamMaxUnreadBytes,
  };
  const app = Fastify({
    loggerInstance: options.logger === undefined || options.logger === false ? undefined : options.logger,
    // Long PromQL expressions and many match[] values arrive in URLs.
    routerOptions: { maxParamLength: 8192 },
    // Every query at info drowns the log of a busy server: requests are logged at debug below.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
      'request completed',
    );
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .header('content-type', 'application/json')
      .send(
        errorBody(
          new ApiError('not_found', `no such endpoint: ${request.method} ${request.url.split('?')[0]}`),
        ),
      ),
  );
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );
  app.get('/-/healthy', async (_request, reply) => reply.send('promstream query is Healthy.\n'));
  app.get('/-/ready', async (_request, reply) => reply.send('promstream query is Ready.\n'));
  await options.configure?.(app);
  await app.register(prometheusApi, services);
  return app;
}

function defaultRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Starts the query server and resolves once it listens. */
export async function startQueryServer(options: QueryServerOptions): Promise<QueryServer> {
  const app = await buildQueryApp(options);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 9090 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 9090);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    app,
    url: `http://${shownHost}:${port}`,
    port,
    close: () => app.close(),
  };
}
