import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { ApiError, errorBody } from './errors.js';
import { eventsPlugin } from './events-plugin.js';
import { eventStreamPlugin } from './events-stream-plugin.js';
import { queryPlugin } from './query-plugin.js';
import { seriesPlugin } from './series-plugin.js';
import type { ApiServices } from './services.js';
import { statusPlugin } from './status-plugin.js';
import { syntaxPlugin } from './syntax-plugin.js';

export { API_ERROR_CODES, API_ERROR_STATUS, ApiError, type ApiErrorCode } from './errors.js';
export { formatFloat, formatTimestamp, histogramJson } from './format.js';
export { QueryGate } from './gate.js';
export { type DownsamplingDefaults, MAX_SOURCE_RESOLUTION, maxSourceResolution } from './resolution-param.js';
export type { ApiInstruments, ApiServices, BuildInfo, PromqlSyntax, ReadOptions } from './services.js';
export { TENANT_HEADER } from './services.js';

/**
 * The Prometheus HTTP API under `/api/v1`: one encapsulated plugin per route
 * group, sharing the services given as options. Errors fastify raises itself
 * (a body it cannot parse, a content type it does not take) answer in
 * Prometheus' error format too.
 */
export const prometheusApi: FastifyPluginAsync<ApiServices> = async (app, services) => {
  await app.register(formbody);
  installErrorFormat(app);
  installCors(app);
  await app.register(queryPlugin, services);
  await app.register(seriesPlugin, services);
  await app.register(syntaxPlugin, services);
  await app.register(statusPlugin, services);
  if (services.events !== undefined)
    await app.register(eventsPlugin, { ...services, events: services.events });
  if (services.eventStream !== undefined)
    await app.register(eventStreamPlugin, { ...services, eventStream: services.eventStream });
};

/**
 * CORS as Prometheus answers it by default (`--web.cors.origin=.*`): any
 * origin may read the API from a browser (Grafana in browser access mode).
 */
function installCors(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined) return;
    reply.header('access-control-allow-origin', origin);
    reply.header(
      'access-control-allow-headers',
      'Accept, Authorization, Content-Type, Origin, X-Scope-OrgID',
    );
    reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
    reply.header('access-control-expose-headers', 'Date');
    reply.header('vary', 'Origin');
  });
  app.options('/api/v1/*', async (_request, reply) => reply.code(204).send());
}

/** How long the rest of a refused body is read and dropped before the connection is closed. */
const LINGER_MS = 10_000;

function installErrorFormat(app: FastifyInstance): void {
  app.setErrorHandler((err: { statusCode?: number; message?: string }, request, reply) => {
    const status = err.statusCode ?? 500;
    if (!request.raw.complete) {
      // fastify refused the body before reading it all (413) and asks for a close; closing
      // with body bytes unread resets the connection and the client loses this answer.
      // Node reads and drops the rest instead, for a bounded time.
      reply.removeHeader('connection');
      const timer = setTimeout(() => request.raw.socket.destroy(), LINGER_MS);
      timer.unref();
      request.raw.once('end', () => clearTimeout(timer));
      request.raw.once('close', () => clearTimeout(timer));
    }
    const apiErr =
      status >= 400 && status < 500
        ? new ApiError('bad_data', err.message ?? 'bad request')
        : new ApiError('internal', err.message ?? 'internal error');
    if (apiErr.code === 'internal') request.log.error({ err }, 'answer request');
    return reply
      .code(status >= 400 && status < 500 ? status : 500)
      .header('content-type', 'application/json')
      .send(errorBody(apiErr));
  });
}
