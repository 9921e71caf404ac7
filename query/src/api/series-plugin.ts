import type { Labels, Matcher } from '@promstream/storage';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { compareLabels } from '../merge-querier.js';
import type { Querier, SelectHints } from '../querier.js';
import { ApiError, invalidParam } from './errors.js';
import { labelsJson, successBody } from './format.js';
import { limitParam, MAX_TIME, MIN_TIME, many, type Params, timeParam } from './params.js';
import {
  type ApiServices,
  paramsOf,
  raceAbort,
  requestSignal,
  sendError,
  sendJson,
  tenantOf,
} from './services.js';

const TRUNCATED = 'results truncated due to limit';

/** `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values` and `/api/v1/metadata`. */
export const seriesPlugin: FastifyPluginAsync<ApiServices> = async (app, services) => {
  const series = (request: FastifyRequest, reply: FastifyReply) =>
    handle(services, request, reply, async (params, querier, hints) => {
      const sets = matcherSets(services, params);
      if (sets.length === 0) throw new ApiError('bad_data', 'no match[] parameter provided');
      const limit = limitParam(params);
      const seen = new Map<string, Labels>();
      for (const matchers of sets) {
        for (const s of await querier.select({ ...hints, func: 'series' }, matchers))
          seen.set(labelsJson(s.labels), s.labels);
      }
      const keys = [...seen.keys()].sort(compareByLabels(seen));
      const warnings: string[] = [];
      if (limit > 0 && keys.length > limit) {
        keys.length = limit;
        warnings.push(TRUNCATED);
      }
      return successBody(`[${keys.join(',')}]`, warnings);
    });
  const labels = (request: FastifyRequest, reply: FastifyReply) =>
    handle(services, request, reply, async (params, querier, hints) => {
      const sets = matcherSets(services, params);
      const limit = limitParam(params);
      const names = new Set<string>();
      for (const matchers of sets.length === 0 ? [[]] : sets) {
        for (const n of await querier.labelNames(hints, matchers)) names.add(n);
      }
      return stringList([...names], limit);
    });
  const labelValues = (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) =>
    handle(services, request, reply, async (params, querier, hints) => {
      const name = labelNameOf(request.params.name);
      const sets = matcherSets(services, params);
      const limit = limitParam(params);
      const values = new Set<string>();
      for (const matchers of sets.length === 0 ? [[]] : sets) {
        for (const v of await querier.labelValues(hints, name, matchers)) values.add(v);
      }
      return stringList([...values], limit);
    });
  const metadata = (request: FastifyRequest, reply: FastifyReply) =>
    handle(services, request, reply, async (params) => {
      limitParam(params);
      limitParam(params, 'limit_per_metric');
      // Metric metadata (TYPE/HELP/UNIT) is not kept on the log or in blocks yet, so every
      // metric has none: the answer Prometheus gives for metrics without metadata.
      return successBody('{}');
    });
  app.get('/api/v1/series', series);
  app.post('/api/v1/series', series);
  app.get('/api/v1/labels', labels);
  app.post('/api/v1/labels', labels);
  app.get('/api/v1/label/:name/values', labelValues);
  app.get('/api/v1/metadata', metadata);
};

type Work = (params: Params, querier: Querier, hints: SelectHints) => Promise<string>;

async function handle(
  services: ApiServices,
  request: FastifyRequest,
  reply: FastifyReply,
  work: Work,
): Promise<FastifyReply> {
  try {
    const params = paramsOf(request);
    const start = timeParam(params, 'start', MIN_TIME);
    const end = timeParam(params, 'end', MAX_TIME);
    if (end < start) throw invalidParam('end', 'end timestamp must not be before start time');
    const tenant = tenantOf(request, services.defaultTenant);
    const { signal, dispose } = requestSignal(reply, services.timeoutMs);
    try {
      const querier = await raceAbort(Promise.resolve(services.querierFor(tenant)), signal);
      const body = await raceAbort(work(params, querier, { mint: start, maxt: end, signal }), signal);
      return await sendJson(reply, 200, body);
    } finally {
      dispose();
    }
  } catch (err) {
    if (!(err instanceof ApiError)) request.log.error({ err }, 'read series');
    return sendError(reply, err, 'match[]');
  }
}

function matcherSets(services: ApiServices, params: Params): Matcher[][] {
  return many(params, 'match[]').map((text) => {
    try {
      return services.syntax.parseSelector(text);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError('bad_data', err instanceof Error ? err.message : String(err), { cause: err });
    }
  });
}

/** Label names in the URL: Prometheus 3 accepts any UTF-8 name, and `U__`-escaped ones. */
function labelNameOf(raw: string): string {
  const name = raw.startsWith('U__') ? unescapeName(raw.slice(3)) : raw;
  if (name === undefined || name === '')
    throw new ApiError('bad_data', `invalid label name: ${JSON.stringify(raw)}`);
  return name;
}

/** Undoes the `U__` label-name escaping: `_` stays, `__` is `_`, `_<hex>_` is that code point. */
function unescapeName(text: string): string | undefined {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '_') {
      out += c;
      continue;
    }
    if (text[i + 1] === '_') {
      out += '_';
      i++;
      continue;
    }
    const close = text.indexOf('_', i + 1);
    if (close < 0) return undefined;
    const hex = text.slice(i + 1, close);
    if (!/^[0-9a-fA-F]{1,6}$/.test(hex)) return undefined;
    const code = Number.parseInt(hex, 16);
    if (code > 0x10ffff) return undefined;
    out += String.fromCodePoint(code);
    i = close;
  }
  return out;
}

function stringList(items: string[], limit: number): string {
  items.sort(compareStrings);
  const warnings: string[] = [];
  if (limit > 0 && items.length > limit) {
    items.length = limit;
    warnings.push(TRUNCATED);
  }
  return successBody(JSON.stringify(items), warnings);
}

/** Byte-order comparison, as Go sorts strings. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareByLabels(byKey: Map<string, Labels>): (a: string, b: string) => number {
  return (a, b) => compareLabels(byKey.get(a)!, byKey.get(b)!);
}
