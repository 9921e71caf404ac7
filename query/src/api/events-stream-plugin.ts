import type { StoredEvent } from '@promstream/storage';
import type { FastifyPluginAsync } from 'fastify';
import { EventFilterError, matchesEvent, parseEventFilter } from '../events/event-filter.js';
import {
  type EventStreamSource,
  formatPosition,
  parsePosition,
  type StreamPosition,
} from '../events/event-stream.js';
import { invalidParam } from './errors.js';
import { single } from './params.js';
import { type ApiServices, paramsOf, sendError, tenantOf } from './services.js';

/** The services the stream API needs beside the shared ones. */
export interface EventStreamApiServices extends ApiServices {
  eventStream: EventStreamSource;
}

/** An SSE frame of one event; its id is the position right after it. */
function frame(e: StoredEvent, position: StreamPosition): string {
  const id = formatPosition(new Map(position).set(e.partition, e.offset + 1));
  const data = JSON.stringify({
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
  });
  return `id: ${id}\ndata: ${data}\n\n`;
}

/**
 * `GET /api/v1/events/stream?match=...` as Server-Sent Events: the
 * tenant's new events that pass `match`, each with the log position after
 * it as its id, so a client that reconnects with `Last-Event-ID` (or
 * `?from=`) resumes with no gap and no repeat. A subscriber that leaves
 * more than `maxUnreadBytes` unread gets an `error` event with the reason
 * and the stream ends, so a slow reader never grows the server's memory.
 */
export const eventStreamPlugin: FastifyPluginAsync<EventStreamApiServices> = async (app, services) => {
  app.get('/api/v1/events/stream', async (request, reply) => {
    let filter: ReturnType<typeof parseEventFilter>;
    let tenant: string;
    let from: StreamPosition | 'beginning' | undefined;
    try {
      const params = paramsOf(request);
      tenant = tenantOf(request, services.defaultTenant);
      try {
        filter = parseEventFilter(single(params, 'match') ?? '', (s) => services.syntax.parseSelector(s));
      } catch (err) {
        if (err instanceof EventFilterError) throw invalidParam('match', err.message, err);
        throw invalidParam('match', (err as Error).message, err);
      }
      const header = request.headers['last-event-id'];
      const resume = (Array.isArray(header) ? header[0] : header) ?? single(params, 'from');
      if (resume === 'beginning') from = 'beginning';
      else if (resume !== undefined && resume !== '') {
        from = parsePosition(resume);
        if (from === undefined)
          throw invalidParam('Last-Event-ID', 'expected partition:offset pairs such as 0:12,1:40');
      }
    } catch (err) {
      return sendError(reply, err, 'match');
    }
    const maxUnread = services.maxUnreadBytes ?? 1 << 20;
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(': promstream events\n\n');
    let closed = false;
    const subscription = await services.eventStream.subscribe(tenant, from, async (events, position) => {
      if (closed) return;
      let text = '';
      let last: StoredEvent | undefined;
      for (const e of events) {
        if (!matchesEvent(filter, e)) continue;
        text += frame(e, position);
        last = e;
      }
      // The batch may end past its last event shown: move the client's position there too.
      const end = formatPosition(position);
      if (
        last === undefined ||
        formatPosition(new Map(position).set(last.partition, last.offset + 1)) !== end
      )
        text += `id: ${end}\n\n`;
      res.write(text);
      if (res.writableLength > maxUnread) {
        closed = true;
        const reason = `subscriber too slow: ${res.writableLength} bytes unread, at most ${maxUnread}; reconnect with Last-Event-ID to resume`;
        res.end(`event: error\ndata: ${JSON.stringify({ reason })}\n\n`);
        await subscription.close();
      }
    });
    res.on('close', () => {
      closed = true;
      void subscription.close();
    });
  });
};
