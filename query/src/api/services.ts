import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { createGzip, type Gzip, gzip } from 'node:zlib';
import { type Matcher, tenantIdProblem } from '@promstream/storage';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { QueryAnswerer } from '../evaluation/answerer.js';
import type { EventQuerier } from '../events/event-querier.js';
import type { EventStreamSource } from '../events/event-stream.js';
import type { Querier } from '../querier.js';
import { ApiError, errorBody, fromEngineError } from './errors.js';
import { abortError, type QueryGate } from './gate.js';
import type { Params } from './params.js';
import type { DownsamplingDefaults } from './resolution-param.js';

const gzipAsync = promisify(gzip);
/** Fastest deflate level: for query answers latency matters more than the last bytes saved. */
const GZIP_OPTIONS = { level: 1 };

/** What the API needs from the PromQL parser, beside the engine. */
export interface PromqlSyntax {
  /** Parses a series selector (`match[]`) to its matchers; throws an EngineError or SyntaxError when it is not one. */
  parseSelector(text: string): Matcher[];
  /** Pretty-prints a query as `/api/v1/format_query` does. */
  format(text: string): string;
  /** The syntax tree as `/api/v1/parse_query` returns it. */
  parseTree(text: string): unknown;
}

/** Version facts `/api/v1/status/buildinfo` reports. */
export interface BuildInfo {
  version: string;
  revision: string;
  branch: string;
  buildUser: string;
  buildDate: string;
  goVersion: string;
}

/** Counters the API keeps; the server backs them with prom-client. */
export interface ApiInstruments {
  /** Called when a query ends, with its endpoint, outcome and duration in seconds. */
  observeQuery(endpoint: string, outcome: string, seconds: number): void;
}

/** How one query reads a tenant's data. */
export interface ReadOptions {
  /** The largest downsample resolution it may read, milliseconds (0: raw only). */
  maxResolution: number;
}

/** The services every API plugin shares (passed as plugin options). */
export interface ApiServices {
  /** Evaluates queries and writes their answers (on worker threads in the query role). */
  answerer: QueryAnswerer;
  /** The querier over one tenant's data, reading resolutions up to the options' (raw when absent). */
  querierFor(tenant: string, read?: ReadOptions): Querier | Promise<Querier>;
  /** How queries pick their resolution when they do not name one. */
  downsampling?: DownsamplingDefaults;
  syntax: PromqlSyntax;
  gate: QueryGate;
  /** Longest a query may run, milliseconds (a request's `timeout` can only shorten it). */
  timeoutMs: number;
  /** Tenant used when a request carries no `X-Scope-OrgID`. */
  defaultTenant: string;
  buildInfo: BuildInfo;
  instruments?: ApiInstruments;
  /** Injected clock, milliseconds. */
  now: () => number;
  /** The events API's querier; none: no `/api/v1/events`. */
  events?: EventQuerier;
  /** Live events for `/api/v1/events/stream`; none: no stream. */
  eventStream?: EventStreamSource;
  /** Bytes a stream subscriber may leave unread before it is cut off. */
  maxUnreadBytes?: number;
}

/** The header that selects the tenant, as Cortex, Mimir and Thanos use it. */
export const TENANT_HEADER = 'x-scope-orgid';

/**
 * The tenant a request asks for: `X-Scope-OrgID` checked with the storage
 * package's tenant-ID rule (a 400 `bad_data` with the rule's reason), or the
 * fallback when the header is absent. A header sent empty is refused.
 */
export function tenantOf(request: FastifyRequest, fallback: string): string {
  const raw = request.headers[TENANT_HEADER];
  if (raw === undefined) return fallback;
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  const problem = tenantIdProblem(value);
  if (problem !== undefined) throw new ApiError('bad_data', `X-Scope-OrgID: ${problem}`);
  return value;
}

/**
 * The request's parameters: URL query merged with a form-encoded body, the
 * body winning as in Go's `FormValue`. Other bodies (JSON) are ignored, as
 * Prometheus ignores them.
 */
export function paramsOf(request: FastifyRequest): Params {
  const query = (request.query ?? {}) as Params;
  const body = request.body;
  const type = request.headers['content-type'] ?? '';
  if (
    body === null ||
    typeof body !== 'object' ||
    !type.toLowerCase().startsWith('application/x-www-form-urlencoded')
  )
    return { ...query };
  return { ...query, ...(body as Params) };
}

/** Bodies smaller than this are sent as they are; compressing them costs more than it saves. */
const GZIP_MIN_BYTES = 1024;

/**
 * Sends a JSON body, gzip-compressed when the client accepts it (as
 * Prometheus compresses its API answers). Compression runs on libuv's
 * thread pool, so a large answer does not stall other requests.
 */
export async function sendJson(
  reply: FastifyReply,
  status: number,
  body: string | Uint8Array,
): Promise<FastifyReply> {
  reply.code(status).header('content-type', 'application/json');
  const accept = reply.request.headers['accept-encoding'];
  if (body.length >= GZIP_MIN_BYTES && typeof accept === 'string' && /\bgzip\b/i.test(accept)) {
    try {
      const zipped = await gzipAsync(body, GZIP_OPTIONS);
      return reply.header('content-encoding', 'gzip').header('vary', 'Accept-Encoding').send(zipped);
    } catch {
      // Compression failing leaves the plain body, which every client reads.
    }
  }
  return reply.send(body);
}

/**
 * Sends a query answer that arrives in chunks (from an evaluation thread or
 * the JSON writer). An answer of one chunk goes as `sendJson` sends it; a
 * longer one streams, through the compressor (libuv's thread pool) when the
 * client takes gzip, so compression of the first chunks runs while the rest
 * arrive. An error before the first chunk is thrown (the caller answers it
 * in Prometheus' format); after streaming began the client sees a cut answer.
 */
export async function sendAnswer(
  reply: FastifyReply,
  chunks: AsyncIterable<Uint8Array>,
): Promise<FastifyReply> {
  const it = chunks[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return sendJson(reply, 200, '');
  const second = await it.next();
  if (second.done) return sendJson(reply, 200, first.value);
  const accept = reply.request.headers['accept-encoding'];
  const gzipOk = typeof accept === 'string' && /\bgzip\b/i.test(accept);
  const stream: Gzip | PassThrough = gzipOk ? createGzip(GZIP_OPTIONS) : new PassThrough();
  // A client gone mid-answer ends the stream with an error; nothing is left to tell it.
  stream.on('error', () => {});
  reply.code(200).header('content-type', 'application/json');
  if (gzipOk) reply.header('content-encoding', 'gzip').header('vary', 'Accept-Encoding');
  void reply.send(stream);
  try {
    stream.write(first.value);
    stream.write(second.value);
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      if (stream.destroyed) break;
      // Waits for the compressor or the socket when it is behind, so memory stays bounded.
      if (!stream.write(next.value)) await drained(stream);
    }
    stream.end();
  } catch (err) {
    stream.destroy(err as Error);
  } finally {
    await it.return?.();
  }
  return reply;
}

/** Resolves when a stream takes writes again, or has closed. */
function drained(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}

/** Sends an error in Prometheus' format. */
export function sendError(reply: FastifyReply, err: unknown, param = 'query'): Promise<FastifyReply> {
  const apiErr = fromEngineError(err, param);
  return sendJson(reply, apiErr.status, errorBody(apiErr));
}

/**
 * A signal that aborts when the client goes away before the answer is sent
 * or when `timeoutMs` passes, with an ApiError (canceled or timeout) as the
 * reason. `dispose` clears the timer and listeners.
 */
export function requestSignal(
  reply: FastifyReply,
  timeoutMs: number,
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableEnded)
      controller.abort(new ApiError('canceled', 'query was canceled: client went away'));
  };
  reply.raw.on('close', onClose);
  // The client may have gone before this handler ran: then 'close' has already fired.
  if (reply.raw.destroyed || reply.request.raw.socket?.destroyed === true) onClose();
  const timer = setTimeout(
    () => controller.abort(new ApiError('timeout', 'query timed out in expression evaluation')),
    Math.max(0, timeoutMs),
  );
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
    },
  };
}

/** Resolves with the work's result, or rejects as soon as the signal aborts, whichever comes first. */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // An abort already settled the race; the work's own error after it is expected.
        reject(signal.aborted ? abortError(signal) : e);
      },
    );
  });
}
