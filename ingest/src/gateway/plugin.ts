import { SchemaError, SchemaErrorCode } from '@promstream/schemas';
import { tenantIdProblem } from '@promstream/storage';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { IngestError, IngestErrorCode, isIngestError } from '../errors.js';
import type { SampleBatchSink } from '../log/sample-sink.js';
import { decodeRaw, uncompressBody, type WireVersion, wireVersion } from '../remote-write/content-type.js';
import { defaultLimits, type ValidationLimits, validateRequest } from '../remote-write/validate.js';
import type { TenantRateLimiter } from './rate-limiter.js';

/** Options of the remote-write route plugin. */
export interface RemoteWritePluginOptions {
  sink: SampleBatchSink;
  limiter: TenantRateLimiter;
  registry: Registry;
  logger: Logger;
  limits?: ValidationLimits;
  defaultTenant?: string;
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

function refuse(reply: FastifyReply, err: IngestError): FastifyReply {
  if (err.status === 429 || err.status === 503) reply.header('Retry-After', '1');
  return reply.code(err.status).type('text/plain; charset=utf-8').send(`${err.code}: ${err.message}\n`);
}

/**
 * `POST /api/v1/write` for Prometheus remote write 1.0 and 2.0. The answer
 * (204) goes out only after the sink resolved, that is after the log
 * acknowledged every record; 400/415 carry the reason, 429 and 503 ask the
 * sender to retry.
 */
export const remoteWritePlugin: FastifyPluginAsync<RemoteWritePluginOptions> = async (
  app: FastifyInstance,
  opts: RemoteWritePluginOptions,
) => {
  const limits = opts.limits ?? defaultLimits;
  const defaultTenant = opts.defaultTenant ?? 'anonymous';
  const problem = tenantIdProblem(defaultTenant);
  if (problem !== undefined)
    throw new IngestError(IngestErrorCode.InvalidConfig, `the gateway's default tenant: ${problem}`);
  const m = metrics(opts.registry);

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
    const req = decodeRaw(raw, v);
    validateRequest(req, limits);
    const { samples, histograms } = req;
    if (!opts.limiter.take(tenant, samples + histograms)) {
      throw new IngestError(
        IngestErrorCode.RateLimited,
        `tenant ${tenant} is over its ingestion rate; ${samples + histograms} samples refused`,
      );
    }
    return { samples, histograms, written: opts.sink.write(tenant, req.series) };
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
      const raw = await uncompressBody(body, typeof encoding === 'string' ? encoding : undefined);
      const { samples, histograms, written } = accept(raw, v, tenant);
      const result = await written;
      m.logBytes.inc(result.bytes);
      m.samples.inc({ tenant }, samples);
      m.histograms.inc({ tenant }, histograms);
      m.requests.inc({ version, code: '204' });
      // Exemplars are not kept on the log, so none count as written.
      return reply
        .code(204)
        .header(WRITTEN_HEADERS.samples, String(samples))
        .header(WRITTEN_HEADERS.histograms, String(histograms))
        .header(WRITTEN_HEADERS.exemplars, '0')
        .send();
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
