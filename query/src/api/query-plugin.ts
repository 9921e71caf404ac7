import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { QueryRequest, QueryText } from '../evaluation/answerer.js';
import { ApiError, fromEngineError, invalidParam } from './errors.js';
import { durationParam, limitParam, type Params, single, timeParam } from './params.js';
import { maxSourceResolution } from './resolution-param.js';
import {
  type ApiServices,
  paramsOf,
  raceAbort,
  requestSignal,
  sendAnswer,
  sendError,
  tenantOf,
} from './services.js';

/** Prometheus' bound on the points one range query may return per series. */
export const MAX_POINTS_PER_SERIES = 11_000;

/** `/api/v1/query` and `/api/v1/query_range`, GET and form-encoded POST. */
export const queryPlugin: FastifyPluginAsync<ApiServices> = async (app, services) => {
  const instant = (request: FastifyRequest, reply: FastifyReply) =>
    handle(services, 'query', request, reply, (params) => ({
      kind: 'instant',
      expr: queryText(params),
      time: timeParam(params, 'time', services.now()),
    }));
  const range = (request: FastifyRequest, reply: FastifyReply) =>
    handle(services, 'query_range', request, reply, (params) => {
      const expr = queryText(params);
      const start = requiredTime(params, 'start');
      const end = requiredTime(params, 'end');
      if (end < start) throw invalidParam('end', 'end timestamp must not be before start time');
      const step = durationParam(params, 'step');
      if (step === undefined) throw invalidParam('step', 'cannot parse "" to a valid duration');
      if (step <= 0)
        throw invalidParam(
          'step',
          'zero or negative query resolution step widths are not accepted. Try a positive integer',
        );
      if ((end - start) / step > MAX_POINTS_PER_SERIES) {
        throw new ApiError(
          'bad_data',
          'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
        );
      }
      return { kind: 'range', expr, start, end, step };
    });
  app.get('/api/v1/query', instant);
  app.post('/api/v1/query', instant);
  app.get('/api/v1/query_range', range);
  app.post('/api/v1/query_range', range);
};

/** The chunks of an answer, each wait for the next one ended at once by the signal's abort. */
async function* abortable(chunks: AsyncIterable<Uint8Array>, signal: AbortSignal): AsyncIterable<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await raceAbort(it.next(), signal);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Lets the answerer stop its evaluation; its own cleanup must not hold this request.
    void it.return?.()?.catch(() => {});
  }
}

function queryText(params: Params): string {
  return single(params, 'query') ?? '';
}

function requiredTime(params: Params, name: string): number {
  const text = single(params, name);
  if (text === undefined || text === '') throw invalidParam(name, 'cannot parse "" to a valid timestamp');
  return timeParam(params, name, 0);
}

async function handle(
  services: ApiServices,
  endpoint: string,
  request: FastifyRequest,
  reply: FastifyReply,
  prepare: (params: Params) => QueryText,
): Promise<FastifyReply> {
  const defaults = services.downsampling ?? {};
  const started = performance.now();
  let outcome = 'success';
  try {
    const params = paramsOf(request);
    const text = prepare(params);
    // Thanos' auto resolution: five samples per step for a range query, the configured default for an instant one.
    const autoMs =
      text.kind === 'range' ? Math.floor(text.step / 5) : (defaults.instantMaxSourceResolution ?? 0);
    const maxResolution = maxSourceResolution(params, autoMs, defaults);
    const limit = limitParam(params);
    const tenant = tenantOf(request, services.defaultTenant);
    const requested = durationParam(params, 'timeout');
    const timeoutMs =
      requested !== undefined && requested > 0 ? Math.min(requested, services.timeoutMs) : services.timeoutMs;
    const { signal, dispose } = requestSignal(reply, timeoutMs);
    try {
      const release = await services.gate.acquire(signal);
      try {
        const querier = await raceAbort(
          Promise.resolve(services.querierFor(tenant, { maxResolution })),
          signal,
        );
        const query: QueryRequest = { ...text, limit, timeoutMs };
        return await sendAnswer(reply, abortable(services.answerer.answer(querier, query, signal), signal));
      } finally {
        release();
      }
    } finally {
      dispose();
    }
  } catch (err) {
    const apiErr = fromEngineError(err);
    outcome = apiErr.code;
    if (apiErr.code === 'internal') request.log.error({ err }, 'evaluate query');
    return sendError(reply, apiErr);
  } finally {
    services.instruments?.observeQuery(endpoint, outcome, (performance.now() - started) / 1000);
  }
}
