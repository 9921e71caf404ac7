import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { invalidParam } from './errors.js';
import { successBody } from './format.js';
import { MAX_TIME, MIN_TIME, single, timeParam } from './params.js';
import { type ApiServices, paramsOf, sendError, sendJson } from './services.js';

/** `/api/v1/format_query`, `/api/v1/parse_query` and `/api/v1/query_exemplars`: the parser alone, no data read. */
export const syntaxPlugin: FastifyPluginAsync<ApiServices> = async (app, services) => {
  const format = (request: FastifyRequest, reply: FastifyReply) =>
    answer(reply, () => JSON.stringify(services.syntax.format(single(paramsOf(request), 'query') ?? '')));
  const parse = (request: FastifyRequest, reply: FastifyReply) =>
    answer(reply, () => JSON.stringify(services.syntax.parseTree(single(paramsOf(request), 'query') ?? '')));
  // Exemplars are not kept on the log or in blocks, so every valid query has none;
  // Grafana asks for them beside range queries.
  const exemplars = (request: FastifyRequest, reply: FastifyReply) =>
    answer(reply, () => {
      const params = paramsOf(request);
      const start = timeParam(params, 'start', MIN_TIME);
      const end = timeParam(params, 'end', MAX_TIME);
      if (end < start) throw invalidParam('end', 'end timestamp must not be before start time');
      services.syntax.parseTree(single(params, 'query') ?? '');
      return '[]';
    });
  app.get('/api/v1/query_exemplars', exemplars);
  app.post('/api/v1/query_exemplars', exemplars);
  app.get('/api/v1/format_query', format);
  app.post('/api/v1/format_query', format);
  app.get('/api/v1/parse_query', parse);
  app.post('/api/v1/parse_query', parse);
};

function answer(reply: FastifyReply, data: () => string): Promise<FastifyReply> {
  try {
    return sendJson(reply, 200, successBody(data()));
  } catch (err) {
    return sendError(reply, err);
  }
}
