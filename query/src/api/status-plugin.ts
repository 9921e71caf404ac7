import type { FastifyPluginAsync } from 'fastify';
import { successBody } from './format.js';
import { type ApiServices, sendJson } from './services.js';

/** `/api/v1/status/buildinfo`, which Grafana and other clients read to pick features. */
export const statusPlugin: FastifyPluginAsync<ApiServices> = async (app, services) => {
  app.get('/api/v1/status/buildinfo', async (_request, reply) =>
    sendJson(reply, 200, successBody(JSON.stringify(services.buildInfo))),
  );
};
