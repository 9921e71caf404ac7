import websocket, { type WebSocket } from '@fastify/websocket';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { EventStreamSource } from '../events/event-stream.js';
import {
  batchMessages,
  parseStreamRequest,
  type StreamMessage,
  type StreamRequest,
} from './events-stream-messages.js';
import { type ApiServices, sendError } from './services.js';

/** The services the stream API needs beside the shared ones. */
export interface EventStreamApiServices extends ApiServices {
  eventStream: EventStreamSource;
}

/** WebSocket close code for a subscriber cut off for being too slow (policy violation). */
export const WS_CLOSE_TOO_SLOW = 1008;

/** A subscriber's sink: where messages go, how much is unread, how it is ended. */
interface StreamSink {
  send(messages: readonly StreamMessage[]): void;
  unreadBytes(): number;
  cutOff(reason: string): void;
  onClose(listener: () => void): void;
}

/** An SSE frame of one message. */
function sseFrame(m: StreamMessage): string {
  return m.event === undefined ? `id: ${m.id}\n\n` : `id: ${m.id}\ndata: ${JSON.stringify(m.event)}\n\n`;
}

function sseSink(reply: FastifyReply): StreamSink {
  const res = reply.raw;
  reply.hijack();
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.write(': promstream events\n\n');
  return {
    send: (messages) => res.write(messages.map(sseFrame).join('')),
    unreadBytes: () => res.writableLength,
    cutOff: (reason) => res.end(`event: error\ndata: ${JSON.stringify({ reason })}\n\n`),
    onClose: (listener) => res.on('close', listener),
  };
}

function wsSink(socket: WebSocket): StreamSink {
  return {
    send: (messages) => {
      for (const m of messages) socket.send(JSON.stringify(m));
    },
    unreadBytes: () => socket.bufferedAmount,
    cutOff: (reason) => socket.close(WS_CLOSE_TOO_SLOW, reason),
    onClose: (listener) => socket.on('close', listener),
  };
}

/**
 * Feeds one subscriber from the event source until it goes away or leaves
 * more than `maxUnread` bytes unread; SSE and WebSocket share this, so the
 * two transports cannot drift apart.
 */
async function serve(
  source: EventStreamSource,
  req: StreamRequest,
  sink: StreamSink,
  maxUnread: number,
): Promise<void> {
  let closed = false;
  let close: (() => Promise<void>) | undefined;
  sink.onClose(() => {
    closed = true;
    void close?.();
  });
  const subscription = await source.subscribe(req.tenant, req.from, async (events, position) => {
    if (closed) return;
    sink.send(batchMessages(req.filter, events, position));
    const unread = sink.unreadBytes();
    if (unread > maxUnread) {
      closed = true;
      sink.cutOff(
        `subscriber too slow: ${unread} bytes unread, at most ${maxUnread}; resume from the last id`,
      );
      await subscription.close();
    }
  });
  close = () => subscription.close();
  if (closed) await subscription.close();
}

/**
 * `GET /api/v1/events/stream?match=...`: the tenant's new events that pass
 * `match`, each with the log position after it as its id, so a client that
 * reconnects with `Last-Event-ID` (or `?from=`) resumes with no gap and no
 * repeat. A plain GET gets Server-Sent Events; an Upgrade request gets a
 * WebSocket whose messages are `{"id": ..., "event": {...}}` (`event`
 * absent when only the position moves). A subscriber that leaves more than
 * `maxUnreadBytes` unread is cut off with the reason (an SSE `error` event,
 * or close code 1008), so a slow reader never grows the server's memory.
 * A bad request is refused with a 400 before any upgrade.
 */
export const eventStreamPlugin: FastifyPluginAsync<EventStreamApiServices> = async (app, services) => {
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  const parsed = new WeakMap<FastifyRequest, StreamRequest>();
  const maxUnread = services.maxUnreadBytes ?? 1 << 20;
  app.route({
    method: 'GET',
    url: '/api/v1/events/stream',
    preValidation: async (request, reply) => {
      try {
        parsed.set(request, parseStreamRequest(request, services));
      } catch (err) {
        return sendError(reply, err, 'match');
      }
    },
    handler: async (request, reply) => {
      const req = parsed.get(request) as StreamRequest;
      await serve(services.eventStream, req, sseSink(reply), maxUnread);
    },
    wsHandler: async (socket, request) => {
      const req = parsed.get(request) as StreamRequest;
      await serve(services.eventStream, req, wsSink(socket), maxUnread);
    },
  });
};
