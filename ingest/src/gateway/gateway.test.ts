import { SchemaError, SchemaErrorCode } from '@promstream/schemas';
import { BAD_TENANT_IDS } from '@promstream/testkit';
import pino from 'pino';
import snappy from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bombOfSize } from '../../test/bombs.js';
import { IngestError, IngestErrorCode } from '../errors.js';
import type { SampleBatchSink, SinkResult } from '../log/sample-sink.js';
import type { WriteSeries } from '../remote-write/types.js';
import { encodeV1 } from '../remote-write/v1.js';
import { encodeV2 } from '../remote-write/v2.js';
import { defaultLimits } from '../remote-write/validate.js';
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

/** A hand-written 1.0 request of one series `name` with one sample at an int64 timestamp. */
function int64Request(name: string, t: bigint): Buffer {
  const varint: number[] = [];
  for (let u = BigInt.asUintN(64, t); ; u >>= 7n) {
    if (u < 0x80n) {
      varint.push(Number(u));
      break;
    }
    varint.push(Number(u & 0x7fn) | 0x80);
  }
  const label = Buffer.from([0x0a, 8, ...Buffer.from('__name__'), 0x12, name.length, ...Buffer.from(name)]);
  const sample = Buffer.from([0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x10, ...varint]);
  const ts = Buffer.concat([
    Buffer.from([0x0a, label.length]),
    label,
    Buffer.from([0x12, sample.length]),
    sample,
  ]);
  return Buffer.concat([Buffer.from([0x0a, ts.length]), ts]);
}

describe('gateway sample window and hostile bodies', () => {
  const sink = new RecordingSink();
  const now = 1_800_000_000_000;
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startGateway({
      sink,
      port: 0,
      logger: pino({ level: 'silent' }),
      sampleWindow: (tenant) =>
        tenant === 'backfill' ? { pastMs: 86_400_000, futureMs: 3_600_000 } : undefined,
      bodyLimit: 1024 * 1024,
      limits: { ...defaultLimits, maxDecompressedBytes: 10 * 1024 * 1024 },
      now: () => now,
    });
  });
  afterAll(async () => {
    await gw.close();
  });

  const post = (body: Uint8Array, tenant: string, version: '1.0' | '2.0' = '1.0') =>
    fetch(`${gw.url}/api/v1/write`, {
      method: 'POST',
      body: snappy.compressSync(Buffer.from(body)),
      headers: {
        'content-type':
          version === '2.0'
            ? 'application/x-protobuf;proto=io.prometheus.write.v2.Request'
            : 'application/x-protobuf',
        'content-encoding': 'snappy',
        'x-scope-orgid': tenant,
      },
    });
  const at = (name: string, ...timestamps: number[]): WriteSeries => ({
    labels: [{ name: '__name__', value: name }],
    timestamps,
    values: timestamps.map(() => 1),
    histograms: [],
    exemplars: 0,
  });

  for (const [version, encode] of [
    ['1.0', encodeV1],
    ['2.0', encodeV2],
  ] as const) {
    it(`${version}: writes the samples inside the window, then answers 400 naming what it refused`, async () => {
      sink.writes = [];
      const res = await post(
        encode([
          at('good_a', now),
          at('year_3000', 32_503_680_000_000),
          at('mixed', now - 700_000, now - 1, now + 1),
          at('good_b', now + 600_000),
        ]),
        'attacker',
        version,
      );
      expect(res.status).toBe(400);
      expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('4');
      const text = await res.text();
      expect(text).toContain(
        'too_far_in_future: 1 samples refused, timestamps too far in the future: after now + 10m, the creation grace period (2027-01-15T08:10:00.000Z); the first: series year_3000{__name__="year_3000"} at 32503680000000 (3000-01-01T00:00:00.000Z)',
      );
      expect(text).toContain(
        'out_of_bounds: 1 samples refused, timestamps out of bounds: before now - 10m, the out-of-order window (2027-01-15T07:50:00.000Z); the first: series mixed{__name__="mixed"} at 1799999300000',
      );
      expect(text).toContain('4 samples and 0 histogram samples of the request are written');
      expect(sink.writes).toHaveLength(1);
      expect(sink.writes[0]!.series.map((s) => [s.labels[0]!.value, s.timestamps])).toEqual([
        ['good_a', [now]],
        ['mixed', [now - 1, now + 1]],
        ['good_b', [now + 600_000]],
      ]);
    });

    it(`${version}: refuses a request whose samples are all outside without writing`, async () => {
      sink.writes = [];
      const res = await post(encode([at('future', now + 600_001)]), 'attacker', version);
      expect(res.status).toBe(400);
      expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('0');
      expect(await res.text()).toMatch(/^too_far_in_future: 1 samples refused/);
      expect(sink.writes).toHaveLength(0);
    });
  }

  it('gives each tenant its own window', async () => {
    sink.writes = [];
    const req = encodeV1([at('late', now - 3_600_000), at('early', now + 1_800_000)]);
    expect((await post(req, 'backfill')).status).toBe(204);
    expect(sink.writes).toHaveLength(1);
    expect((await post(req, 'other')).status).toBe(400);
  });

  it('answers 400, not 503, for timestamps at the int64 limits and past 2^53', async () => {
    sink.writes = [];
    for (const t of [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, -(2n ** 53n + 1n)]) {
      const res = await post(int64Request('edge', t), 'backfill');
      const text = await res.text();
      expect(res.status, `${t}: ${text}`).toBe(400);
      expect(text).toMatch(
        /^(too_far_in_future|out_of_bounds): 1 samples refused, .* at -?2\^53 ms or beyond, which no sample timestamp can be\n0 samples and 0 histogram samples of the request are written\n$/,
      );
    }
    expect(sink.writes).toHaveLength(0);
  });

  it('answers 413 naming the limit for a decompression bomb and for a body over the body limit', async () => {
    sink.writes = [];
    const send = (body: Buffer) =>
      fetch(`${gw.url}/api/v1/write`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
      });
    // 900 KB that declare 19 MB, over this gateway's 10 MiB.
    const bomb = await send(bombOfSize(900_000, now).body);
    expect(bomb.status).toBe(413);
    expect(await bomb.text()).toMatch(
      /^payload_too_large: the body declares 19199\d+ bytes once decompressed, over the limit max_decompressed_bytes of 10485760\n$/,
    );
    // 400 KB that expand to 8.5 MB of 244,000 series: within the size, over the series limit.
    const wide = await send(bombOfSize(400_000, now).body);
    expect(wide.status).toBe(400);
    expect(await wide.text()).toBe(
      'limit_exceeded: more than 200000 series in one request, over the limit max_series_per_request of 200000\n',
    );
    const big = await fetch(`${gw.url}/api/v1/write`, {
      method: 'POST',
      body: Buffer.alloc(2 * 1024 * 1024),
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
    });
    expect(big.status).toBe(413);
    expect(await big.text()).toBe(
      'payload_too_large: the request body is larger than the limit of 1048576 bytes (compressed)\n',
    );
    expect(sink.writes).toHaveLength(0);
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
