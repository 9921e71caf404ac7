import type { StoredEvent } from '@promstream/storage';
import type { FastifyRequest } from 'fastify';
import {
  type EventFilter,
  EventFilterError,
  matchesEvent,
  parseEventFilter,
} from '../events/event-filter.js';
import { formatPosition, parsePosition, type StreamPosition } from '../events/event-stream.js';
import { invalidParam } from './errors.js';
import { single } from './params.js';
import { type ApiServices, paramsOf, tenantOf } from './services.js';

/** What a stream request asks for, the same over SSE and WebSocket. */
export interface StreamRequest {
  tenant: string;
  filter: EventFilter;
  /** Absent: only events after the subscription starts. */
  from: StreamPosition | 'beginning' | undefined;
}

/**
 * Reads the tenant, `match` and the resume position (`Last-Event-ID`, else
 * `?from=`) of a stream request; throws an `ApiError` (400) for a bad one.
 */
export function parseStreamRequest(request: FastifyRequest, services: ApiServices): StreamRequest {
  const params = paramsOf(request);
  const tenant = tenantOf(request, services.defaultTenant);
  let filter: EventFilter;
  try {
    filter = parseEventFilter(single(params, 'match') ?? '', (s) => services.syntax.parseSelector(s));
  } catch (err) {
    if (err instanceof EventFilterError) throw invalidParam('match', err.message, err);
    throw invalidParam('match', (err as Error).message, err);
  }
  const header = request.headers['last-event-id'];
  const resume = (Array.isArray(header) ? header[0] : header) ?? single(params, 'from');
  if (resume === undefined || resume === '') return { tenant, filter, from: undefined };
  if (resume === 'beginning') return { tenant, filter, from: 'beginning' };
  const from = parsePosition(resume);
  if (from === undefined)
    throw invalidParam('Last-Event-ID', 'expected partition:offset pairs such as 0:12,1:40');
  return { tenant, filter, from };
}

/** The JSON form of one event in the stream. */
export interface StreamEventJson {
  time: string;
  host: string;
  source: string;
  kind: string;
  severity: string;
  message: string;
  attributes: Record<string, string>;
  truncated?: true;
  partition: number;
  offset: number;
}

/**
 * One stream message: the position right after it as `id` (what a client
 * resumes from) and the event, absent when only the position moves.
 */
export interface StreamMessage {
  id: string;
  event?: StreamEventJson;
}

function eventJson(e: StoredEvent): StreamEventJson {
  return {
    time: new Date(e.time).toISOString(),
    host: e.host,
    source: e.source,
    kind: e.kind,
    severity: e.severity,
    message: e.message,
    attributes: e.attributes,
    ...(e.truncated ? { truncated: true as const } : {}),
    partition: e.partition,
    offset: e.offset,
  };
}

/**
 * The messages of one delivered batch: each event that passes `filter`,
 * then, when the batch ends past the last one shown, a position-only
 * message so the client's resume point moves over the filtered-out tail.
 */
export function batchMessages(
  filter: EventFilter,
  events: readonly StoredEvent[],
  position: StreamPosition,
): StreamMessage[] {
  const out: StreamMessage[] = [];
  for (const e of events) {
    if (!matchesEvent(filter, e)) continue;
    out.push({ id: formatPosition(new Map(position).set(e.partition, e.offset + 1)), event: eventJson(e) });
  }
  const end = formatPosition(position);
  if (out.at(-1)?.id !== end) out.push({ id: end });
  return out;
}
