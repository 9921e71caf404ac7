import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { MetricFamily } from './collectors/index.js';
import { formatText } from './exposition.js';
import type { RecentStore } from './recent-store.js';

/** What the agent's HTTP server shows. */
export interface AgentHttpOptions {
  logger: Logger;
  registry: Registry;
  /** The host collectors' families of the last collection. */
  latest: () => MetricFamily[];
  recent: RecentStore;
  now: () => number;
  host: string;
  port: number;
}

/**
 * Serves `/metrics` (what the agent collects and its own metrics),
 * `/api/v1/recent` (its recent samples, filtered by label) and `/-/ready`.
 */
export async function startAgentHttp(o: AgentHttpOptions): Promise<{ app: FastifyInstance; port: number }> {
  const app: FastifyInstance = Fastify({
    loggerInstance: o.logger.child({}, { level: 'warn' }) as FastifyBaseLogger,
  });
  app.get('/metrics', async (_req, reply) =>
    reply
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(formatText(o.latest()) + (await o.registry.metrics())),
  );
  app.get('/api/v1/recent', async (req) => {
    const query = { ...(req.query as Record<string, string>) };
    const since = Number(query.since ?? o.now() - 5 * 60_000);
    delete query.since;
    return { status: 'success', data: o.recent.select(query, since) };
  });
  app.get('/-/ready', async () => 'ready\n');
  await app.listen({ port: o.port, host: o.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : o.port;
  return { app, port };
}
