import { SchemaError, SchemaErrorCode } from '@promstream/schemas';
import { BAD_TENANT_IDS } from '@promstream/testkit';
import pino from 'pino';
import snappy from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestError, IngestErrorCode } from '../errors.js';
import type { SampleBatchSink, SinkResult } from '../log/sample-sink.js';
import type { WriteSeries } from '../remote-write/types.js';
import { encodeV1 } from '../remote-write/v1.js';
import { encodeV2 } from '../remote-write/v2.js';
import { TenantRateLimiter } from './rate-limiter.js';
import { type Gateway, startGateway } from './server.js';

/** Records what the gateway hands on; can be switched to fail as a log outage would. */
class RecordingSink implements SampleBatchSink {
  writes: { tenant: string; series: readonly WriteSeries[] }[] = [];
  down = false;
  failWith: Error | undefined;
  async write(tenant: string, series: readonly WriteSeries[]): Promise<SinkResult> {
    if (this.down)
      throw new IngestError(IngestErrorCode.LogUnavailable, 'write to the log: broker unreachable');
    if (this.failWith !== undefined) throw this.failWith;
    this.writes.push({ tenant, series });
    return { records: 1, bytes: 10 };
  }
}

const series: WriteSeries[] = [
  {
    labels: [
      { name: '__name__', value: 'up' },
      { name: 'job', value: 'node' },
    ],
    timestamps: [1000, 2000],
    values: [1, 1],
    histograms: [],
    exemplars: 0,
  },
];

describe('gateway', () => {
  const sink = new RecordingSink();
  let clock = 0;
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startGateway({
      sink,
      port: 0,
      logger: pino({ level: 'silent' }),
      rateLimit: (tenant) => (tenant === 'slow' ? { samplesPerSecond: 1, burst: 3 } : undefined),
      now: () => clock,
    });
  });
  afterAll(async () => {
    await gw.close();
  });

  const post = (body: Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/api/v1/write`, {
      method: 'POST',
      body: snappy.compressSync(Buffer.from(body)),
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', ...headers },
    });

  it('accepts 1.0 with 204 and the written headers, under the default tenant', async () => {
    sink.writes = [];
    const res = await post(encodeV1(series), { 'x-prometheus-remote-write-version': '0.1.0' });
    expect(res.status).toBe(204);
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('2');
    expect(res.headers.get('x-prometheus-remote-write-histograms-written')).toBe('0');
    expect(sink.writes).toHaveLength(1);
    expect(sink.writes[0]!.tenant).toBe('anonymous');
    expect(sink.writes[0]!.series[0]!.labels).toEqual(series[0]!.labels);
  });

  it('accepts 2.0 and takes the tenant from X-Scope-OrgID', async () => {
    sink.writes = [];
    const res = await post(encodeV2(series), {
      'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
      'x-scope-orgid': 'team-a',
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('2');
    expect(sink.writes[0]!.tenant).toBe('team-a');
  });

  describe.each([
    ['1.0', () => encodeV1(series), 'application/x-protobuf'],
    ['2.0', () => encodeV2(series), 'application/x-protobuf;proto=io.prometheus.write.v2.Request'],
  ])('remote write %s refuses a bad X-Scope-OrgID with 400 and writes nothing', (_v, body, type) => {
    it.each(BAD_TENANT_IDS)('$name', async ({ id, http }) => {
      sink.writes = [];
      const payload = snappy.compressSync(Buffer.from(body()));
      const headers = { 'content-type': type, 'content-encoding': 'snappy', 'x-scope-orgid': id };
      // Characters no HTTP client sends in a header go through fastify's injection instead of a socket.
      const { status, text } = http
        ? await fetch(`${gw.url}/api/v1/write`, { method: 'POST', body: payload, headers }).then(
            async (r) => ({ status: r.status, text: await r.text() }),
          )
        : await gw.app
            .inject({ method: 'POST', url: '/api/v1/write', payload, headers })
            .then((r) => ({ status: r.statusCode, text: r.body }));
      expect(status).toBe(400);
      expect(text).toMatch(/^invalid_tenant: X-Scope-OrgID: (the )?tenant ID/);
      expect(sink.writes).toHaveLength(0);
    });
  });

  it('refuses to start with a default tenant the rule refuses', async () => {
    await expect(
      startGateway({ sink, port: 0, logger: pino({ level: 'silent' }), defaultTenant: '..' }),
    ).rejects.toMatchObject({ code: 'invalid_config' });
  });

  it('answers 415 for an unsupported content type', async () => {
    const res = await fetch(`${gw.url}/api/v1/write`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(415);
    expect(await res.text()).toMatch(/unsupported_media_type: content type "application\/json"/);
  });

  it('answers 400 with the reason for invalid labels, and writes nothing', async () => {
    sink.writes = [];
    const bad: WriteSeries[] = [{ ...series[0]!, labels: [{ name: 'job', value: 'node' }] }];
    const res = await post(encodeV1(bad));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/no metric name/);
    expect(sink.writes).toHaveLength(0);
  });

  it('answers 400 for a body that is not snappy', async () => {
    const res = await fetch(`${gw.url}/api/v1/write`, {
      method: 'POST',
      body: 'plain',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/malformed_request: snappy/);
  });

  it('answers 429 over the tenant rate and accepts again once tokens refill', async () => {
    clock = 0;
    expect((await post(encodeV1(series), { 'x-scope-orgid': 'slow' })).status).toBe(204);
    const refused = await post(encodeV1(series), { 'x-scope-orgid': 'slow' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    // Another tenant is not affected.
    expect((await post(encodeV1(series), { 'x-scope-orgid': 'other' })).status).toBe(204);
    clock = 2000;
    expect((await post(encodeV1(series), { 'x-scope-orgid': 'slow' })).status).toBe(204);
  });

  it('answers 503 when the log is unavailable', async () => {
    sink.down = true;
    try {
      const res = await post(encodeV1(series));
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/log_unavailable/);
    } finally {
      sink.down = false;
    }
  });

  it('answers 400 when the record schema refuses, 503 for other write errors', async () => {
    try {
      sink.failWith = new SchemaError(SchemaErrorCode.InvalidRecord, 'labels: not an array');
      const refused = await post(encodeV1(series));
      expect(refused.status).toBe(400);
      expect(await refused.text()).toMatch(/invalid_series: the record schema refuses/);
      sink.failWith = new Error('socket hang up');
      const unavailable = await post(encodeV1(series));
      expect(unavailable.status).toBe(503);
      expect(await unavailable.text()).toMatch(/log_unavailable: write to the log: socket hang up/);
    } finally {
      sink.failWith = undefined;
    }
  });

  it('counts requests by status on /metrics', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toMatch(/promstream_gateway_requests_total\{version="1.0",code="204"\} [1-9]/);
    expect(text).toMatch(/promstream_gateway_requests_total\{version="1.0",code="503"\} 2/);
  });
});

describe('tenant rate limiter', () => {
  it('refills at the configured rate up to the burst', () => {
    let now = 0;
    const limiter = new TenantRateLimiter(
      () => ({ samplesPerSecond: 10, burst: 20 }),
      () => now,
    );
    expect(limiter.take('t', 20)).toBe(true);
    expect(limiter.take('t', 1)).toBe(false);
    now = 500;
    expect(limiter.take('t', 5)).toBe(true);
    expect(limiter.take('t', 1)).toBe(false);
    now = 100_000;
    // Refill stops at the burst, however long the pause.
    expect(limiter.take('t', 20)).toBe(true);
    expect(limiter.take('t', 1)).toBe(false);
  });

  it('lets a request larger than the burst through a full bucket and makes it pay the debt', () => {
    let now = 0;
    const limiter = new TenantRateLimiter(
      () => ({ samplesPerSecond: 10, burst: 20 }),
      () => now,
    );
    expect(limiter.take('t', 50)).toBe(true);
    now = 2000; // 20 tokens refilled, still 10 in debt
    expect(limiter.take('t', 1)).toBe(false);
    now = 5000; // debt paid, 20 tokens (the burst) again
    expect(limiter.take('t', 20)).toBe(true);
  });
});
