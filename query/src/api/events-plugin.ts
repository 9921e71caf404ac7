import type { StoredEvent } from '@promstream/storage';
import type { FastifyPluginAsync } from 'fastify';
import { EventFilterError, parseEventFilter } from '../events/event-filter.js';
import type { EventCursor, EventQuerier } from '../events/event-querier.js';
import { ApiError, invalidParam } from './errors.js';
import { limitParam, type Params, single, timeParam } from './params.js';
import { type ApiServices, paramsOf, sendError, sendJson, tenantOf } from './services.js';

/** The services the events API needs beside the shared ones. */
export interface EventsApiServices extends ApiServices {
  events: EventQuerier;
}

/** Default and largest page size. */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 5000;
/** The window when `start` is absent: an hour before `end`. */
const DEFAULT_WINDOW = 3_600_000;

/** An event as the API answers it. */
function eventJson(e: StoredEvent) {
  return {
    time: new Date(e.time).toISOString(),
    host: e.host,
    source: e.source,
    kind: e.kind,
    severity: e.severity,
    message: e.message,
    attributes: e.attributes,
    ...(e.truncated ? { truncated: true } : {}),
    partition: e.partition,
    offset: e.offset,
  };
}

/** A cursor as the API hands it out: opaque, URL-safe. */
export function encodeCursor(c: EventCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(text: string): EventCursor {
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString()) as unknown;
    if (Array.isArray(v) && v.length === 3 && v.every((n) => Number.isSafeInteger(n)))
      return v as unknown as EventCursor;
  } catch {
    // Answered below.
  }
  throw invalidParam('cursor', 'not a cursor this API handed out');
}

function directionOf(params: Params): 'backward' | 'forward' {
  const d = single(params, 'direction') ?? 'backward';
  if (d !== 'backward' && d !== 'forward')
    throw invalidParam('direction', `must be "backward" or "forward", got ${JSON.stringify(d)}`);
  return d;
}

/**
 * `GET /api/v1/events?match=&start=&end=&limit=&direction=&cursor=`: events
 * of the request's tenant in a time window, filtered by a selector and text
 * filters (`events/event-filter.ts`), newest first by default, a page at a
 * time; `data.nextCursor` fetches the next page. Errors in Prometheus' format.
 */
export const eventsPlugin: FastifyPluginAsync<EventsApiServices> = async (app, services) => {
  app.get('/api/v1/events', async (request, reply) => {
    try {
      const params = paramsOf(request);
      const tenant = tenantOf(request, services.defaultTenant);
      const end = timeParam(params, 'end', services.now());
      const start = timeParam(params, 'start', end - DEFAULT_WINDOW);
      if (end < start) throw new ApiError('bad_data', 'end timestamp must not be before start time');
      const limit = limitParam(params) || DEFAULT_LIMIT;
      if (limit > MAX_LIMIT) throw invalidParam('limit', `at most ${MAX_LIMIT} events a page`);
      let filter: ReturnType<typeof parseEventFilter>;
      try {
        filter = parseEventFilter(single(params, 'match') ?? '', (s) => services.syntax.parseSelector(s));
      } catch (err) {
        if (err instanceof EventFilterError) throw invalidParam('match', err.message, err);
        throw invalidParam('match', (err as Error).message, err);
      }
      const cursor = single(params, 'cursor');
      const page = await services.events.query({
        tenant,
        start,
        end,
        filter,
        direction: directionOf(params),
        limit,
        ...(cursor === undefined || cursor === '' ? {} : { after: decodeCursor(cursor) }),
      });
      const data = {
        events: page.events.map(eventJson),
        ...(page.next === undefined ? {} : { nextCursor: encodeCursor(page.next) }),
      };
      return sendJson(reply, 200, JSON.stringify({ status: 'success', data }));
    } catch (err) {
      return sendError(reply, err, 'match');
    }
  });
};
