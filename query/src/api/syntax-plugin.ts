import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { successBody } from './format.js';
import { single } from './params.js';
import { type ApiServices, paramsOf, sendError, sendJson } from './services.js';

/** `/api/v1/format_query` and `/api/v1/parse_query`: the parser alone, no data read. */
export const syntaxPlugin: FastifyPluginAsync<ApiServices> = async (app, services) => {
  const format = (request: FastifyRequest, reply: FastifyReply) =>
    answer(reply, () => JSON.stringify(services.syntax.format(single(paramsOf(request), 'query') ?? '')));
  const parse = (request: FastifyRequest, reply: FastifyReply) =>
    answer(reply, () => JSON.stringify(services.syntax.parseTree(single(paramsOf(request), 'query') ?? '')));
  app.get('/api/v1/format_query', format);
  app.post('/api/v1/format_query', format);
  app.get('/api/v1/parse_query', parse);
  app.post('/api/v1/parse_query', parse);
};

function answer(reply: FastifyReply, data: () => string): FastifyReply {
  try {
    return sendJson(reply, 200, successBody(data()));
  } catch (err) {
    return sendError(reply, err);
  }
}
