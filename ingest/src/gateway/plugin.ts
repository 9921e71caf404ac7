import type { IncomingMessage } from 'node:http';
import { LogError } from '@promstream/log';
import { SchemaError, SchemaErrorCode } from '@promstream/schemas';
import { tenantIdProblem } from '@promstream/storage';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { IngestError, IngestErrorCode, isIngestError } from '../errors.js';
import type { SampleBatchSink } from '../log/sample-sink.js';
import { decodeRaw, uncompressBody, type WireVersion, wireVersion } from '../remote-write/content-type.js';
import {
  defaultLimits,
  describeSeries,
  type ValidationLimits,
  validateRequest,
} from '../remote-write/validate.js';
import {
  applyWindow,
  defaultWindow,
  type RefusedSamples,
  type SampleWindow,
} from '../remote-write/window.js';
import type { TenantRateLimiter } from './rate-limiter.js';

/** Options of the remote-write route plugin. */
export interface RemoteWritePluginOptions {
  sink: SampleBatchSink;
  limiter: TenantRateLimiter;
  registry: Registry;
  logger: Logger;
  limits?: ValidationLimits;
  /** The window of sample timestamps per tenant; undefined means `defaultWindow`. */
  sampleWindow?: (tenant: string) => SampleWindow | undefined;
  defaultTenant?: string;
  /** The largest compressed body fastify reads, named in the 413 it answers above it. */
  bodyLimit?: number;
  now?: () => number;
}

/** The headers the 2.0 spec asks a receiver to answer with (sent for 1.0 too; senders ignore them). */
export const WRITTEN_HEADERS = {
  samples: 'X-Prometheus-Remote-Write-Samples-Written',
  histograms: 'X-Prometheus-Remote-Write-Histograms-Written',
  exemplars: 'X-Prometheus-Remote-Write-Exemplars-Written',
} as const;

/**
 * The tenant of a request: `X-Scope-OrgID` when sent (checked with the one
 * tenant-ID rule of the storage package, as tenants become bucket prefixes),
 * the default tenant when absent. A header that is sent empty is refused,
 * not taken as absent.
 */
export function requestTenant(header: string | string[] | undefined, defaultTenant: string): string {
  if (header === undefined) return defaultTenant;
  const tenant = Array.isArray(header) ? header.join(',') : header;
  const problem = tenantIdProblem(tenant);
  if (problem !== undefined) {
    throw new IngestError(IngestErrorCode.InvalidTenant, `X-Scope-OrgID: ${problem}`);
  }
  return tenant;
}

function metrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'promstream_gateway_requests_total',
      help: 'Remote-write requests by wire version and HTTP status.',
      labelNames: ['version', 'code'],
      registers: [registry],
    }),
    samples: new Counter({
      name: 'promstream_gateway_samples_written_total',
      help: 'Float samples acknowledged after the log held them.',
      labelNames: ['tenant'],
      registers: [registry],
    }),
    histograms: new Counter({
      name: 'promstream_gateway_histograms_written_total',
      help: 'Native histogram samples acknowledged after the log held them.',
      labelNames: ['tenant'],
      registers: [registry],
    }),
    discarded: new Counter({
      name: 'promstream_gateway_discarded_samples_total',
      help: 'Samples refused, by reason code.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    payloadBytes: new Counter({
      name: 'promstream_gateway_payload_bytes_total',
      help: 'Compressed remote-write body bytes received.',
      registers: [registry],
    }),
    logBytes: new Counter({
      name: 'promstream_gateway_log_bytes_total',
      help: 'Record value bytes written to the log, before batch compression.',
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'promstream_gateway_request_duration_seconds',
      help: 'Time from request to answer, including the log acknowledgement.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

// The schema refusing a record is the request's fault and will not change on
// retry; anything else from the write path is treated as the log being unavailable.
function asIngestError(err: unknown): IngestError {
  // The log names its own action ("connect to the log", "write 3 records to ...").
  if (err instanceof LogError)
    return new IngestError(IngestErrorCode.LogUnavailable, err.message, { cause: err });
  if (err instanceof SchemaError && err.code === SchemaErrorCode.InvalidRecord) {
    return new IngestError(
      IngestErrorCode.InvalidSeries,
      `the record schema refuses the request: ${err.message}`,
      {
        cause: err,
      },
    );
  }
  return new IngestError(IngestErrorCode.LogUnavailable, `write to the log: ${(err as Error).message}`, {
    cause: err,
  });
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

function minutes(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
}

/** One line of a partial refusal, as Mimir words its per-sample errors. */
function refusalLine(code: IngestErrorCode, what: RefusedSamples, bound: string): string {
  // A timestamp beyond 2^53 ms reads as the nearest number; say so rather than show a wrong one as exact.
  const at = Number.isSafeInteger(what.timestamp)
    ? `${what.timestamp} (${iso(what.timestamp)})`
    : `${what.timestamp < 0 ? '-' : ''}2^53 ms or beyond, which no sample timestamp can be`;
  return `${code}: ${what.count} samples refused, ${bound} (${iso(what.bound)}); the first: ${describeSeries(what.series)} at ${at}`;
}

/**
 * The partial refusal of a request some of whose samples fell outside the
 * window (one line per reason, then what was written), or undefined when
 * none did.
 */
function windowRefusal(
  kept: { samples: number; histograms: number },
  tooOld: RefusedSamples | undefined,
  tooNew: RefusedSamples | undefined,
  window: SampleWindow,
): IngestError | undefined {
  if (tooOld === undefined && tooNew === undefined) return undefined;
  const lines: string[] = [];
  if (tooNew !== undefined)
    lines.push(
      refusalLine(
        IngestErrorCode.TooFarInFuture,
        tooNew,
        `timestamps too far in the future: after now + ${minutes(window.futureMs)}, the creation grace period`,
      ),
    );
  if (tooOld !== undefined)
    lines.push(
      refusalLine(
        IngestErrorCode.OutOfBounds,
        tooOld,
        `timestamps out of bounds: before now - ${minutes(window.pastMs)}, the out-of-order window`,
      ),
    );
  lines.push(`${kept.samples} samples and ${kept.histograms} histogram samples of the request are written`);
  return new IngestError(
    tooNew !== undefined ? IngestErrorCode.TooFarInFuture : IngestErrorCode.OutOfBounds,
    lines.join('\n'),
  );
}

/** How long the rest of a refused body is read and dropped before the connection is closed. */
const LINGER_MS = 10_000;

/**
 * Answers a request whose body is not read to its end (fastify refuses one
 * over its limit from its length) without closing the connection at once:
 * fastify asks for a close, and closing with body bytes unread makes the
 * kernel reset the connection, so a client (or the all-in-one's front) still
 * sending would lose the answer. Node reads and drops the rest instead, for
 * at most LINGER_MS.
 */
function lingerOnEarlyAnswer(raw: IncomingMessage, reply: FastifyReply): void {
  if (raw.complete) return;
  reply.removeHeader('connection');
  const timer = setTimeout(() => raw.socket.destroy(), LINGER_MS);
  timer.unref();
  raw.once('end', () => clearTimeout(timer));
  raw.once('close', () => clearTimeout(timer));
}

function refuse(reply: FastifyReply, err: IngestError): FastifyReply {
  if (err.status === 429 || err.status === 503) reply.header('Retry-After', '1');
  // A partial refusal's message is already one line per reason, each led by its code.
  const text = err.message.startsWith(`${err.code}: `) ? err.message : `${err.code}: ${err.message}`;
  return reply.code(err.status).type('text/plain; charset=utf-8').send(`${text}\n`);
}

/**
 * `POST /api/v1/write` for Prometheus remote write 1.0 and 2.0. The answer
 * (204) goes out only after the sink resolved, that is after the log
 * acknowledged every record; 400/413/415 carry the reason, 429 and 503 ask
 * the sender to retry. Samples outside the tenant's window are refused one
 * by one: the others are written, then the answer is 400 with how many
 * samples were refused and why (see window.ts).
 */
export const remoteWritePlugin: FastifyPluginAsync<RemoteWritePluginOptions> = async (
  app: FastifyInstance,
  opts: RemoteWritePluginOptions,
) => {
  const limits = opts.limits ?? defaultLimits;
  const defaultTenant = opts.defaultTenant ?? 'anonymous';
  const now = opts.now ?? Date.now;
  const windowOf = opts.sampleWindow ?? (() => undefined);
  const problem = tenantIdProblem(defaultTenant);
  if (problem !== undefined)
    throw new IngestError(IngestErrorCode.InvalidConfig, `the gateway's default tenant: ${problem}`);
  const m = metrics(opts.registry);

  // fastify refuses a body over its limit before the route runs; answer it in the route's format.
  app.setErrorHandler((err: FastifyError, request, reply) => {
    lingerOnEarlyAnswer(request.raw, reply);
    const e =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? new IngestError(
            IngestErrorCode.PayloadTooLarge,
            `the request body is larger than the limit of ${opts.bodyLimit ?? 'the gateway'} bytes (compressed)`,
          )
        : new IngestError(IngestErrorCode.MalformedRequest, err.message, { cause: err });
    m.requests.inc({ version: 'unknown', code: String(e.status) });
    m.discarded.inc({ reason: e.code });
    return refuse(reply, e);
  });

  // Read every body as bytes; the route decides on the content type itself,
  // so an unsupported one gets the remote-write 415 and not fastify's.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  /**
   * Decodes, validates and rate-limits a request and hands its series to the
   * sink. Not async: the decoded request lives only in this frame, so it is
   * garbage by the time the handler waits for the log (keeping it reachable
   * across that wait made every young-generation collection copy it).
   */
  const accept = (raw: Buffer, v: WireVersion, tenant: string) => {
    const req = decodeRaw(raw, v, limits);
    validateRequest(req, limits);
    const window = windowOf(tenant) ?? defaultWindow;
    const { kept, tooOld, tooNew } = applyWindow(req, now(), window);
    const refused = windowRefusal(kept, tooOld, tooNew, window);
    if (tooNew !== undefined) m.discarded.inc({ reason: IngestErrorCode.TooFarInFuture }, tooNew.count);
    if (tooOld !== undefined) m.discarded.inc({ reason: IngestErrorCode.OutOfBounds }, tooOld.count);
    const { samples, histograms } = kept;
    if (samples + histograms > 0 && !opts.limiter.take(tenant, samples + histograms)) {
      throw new IngestError(
        IngestErrorCode.RateLimited,
        `tenant ${tenant} is over its ingestion rate; ${samples + histograms} samples refused`,
      );
    }
    const written =
      kept.series.length === 0
        ? Promise.resolve({ records: 0, bytes: 0 })
        : opts.sink.write(tenant, kept.series);
    return { samples, histograms, written, refused };
  };

  app.post('/api/v1/write', async (request, reply) => {
    const started = process.hrtime.bigint();
    let version = 'unknown';
    try {
      const tenant = requestTenant(request.headers['x-scope-orgid'], defaultTenant);
      const v = wireVersion(request.headers['content-type']);
      version = v;
      const body = request.body;
      if (!Buffer.isBuffer(body)) {
        throw new IngestError(IngestErrorCode.MalformedRequest, 'the request has no body');
      }
      m.payloadBytes.inc(body.length);
      const encoding = request.headers['content-encoding'];
      // Snappy runs on the thread pool; the raw bytes are one buffer outside
      // the JavaScript heap, so holding them across the wait costs no GC work.
      const raw = await uncompressBody(
        body,
        typeof encoding === 'string' ? encoding : undefined,
        limits.maxDecompressedBytes,
      );
      const { samples, histograms, written, refused } = accept(raw, v, tenant);
      const result = await written;
      m.logBytes.inc(result.bytes);
      m.samples.inc({ tenant }, samples);
      m.histograms.inc({ tenant }, histograms);
      // Exemplars are not kept on the log, so none count as written. A partial refusal
      // answers 400 only now that the accepted samples are on the log (as Mimir does):
      // the sender must not retry it, and what it says was written is.
      reply
        .header(WRITTEN_HEADERS.samples, String(samples))
        .header(WRITTEN_HEADERS.histograms, String(histograms))
        .header(WRITTEN_HEADERS.exemplars, '0');
      if (refused !== undefined) {
        m.requests.inc({ version, code: String(refused.status) });
        opts.logger.debug(
          { code: refused.code, tenant, reason: refused.message },
          'remote write partly refused',
        );
        return refuse(reply, refused);
      }
      m.requests.inc({ version, code: '204' });
      return reply.code(204).send();
    } catch (err) {
      const e = isIngestError(err) ? err : asIngestError(err);
      m.requests.inc({ version, code: String(e.status) });
      m.discarded.inc({ reason: e.code });
      if (e.status >= 500) opts.logger.warn({ err: e }, 'remote write refused');
      else opts.logger.debug({ code: e.code, reason: e.message }, 'remote write refused');
      return refuse(reply, e);
    } finally {
      m.duration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  });
};
