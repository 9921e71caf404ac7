import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlockCatalog,
  BlockReader,
  formatLabels,
  MemoryObjectStore,
  newMatcher,
  tenantStore,
} from '@promstream/storage';
import { announceSkip, freePort, prometheusReference } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importRemoteRead } from './import-remote-read.js';
import { decodeReadResponse, encodeReadRequest } from './remote-read-v1.js';

const T0 = 1_700_000_000_000;
const HOUR = 3600_000;

describe('remote-read codec', () => {
  it('encodes a request with the fields Prometheus reads (golden bytes)', () => {
    const bytes = encodeReadRequest([{ startMs: 1, endMs: 300, matchers: [newMatcher('=~', 'a', 'b')] }]);
    // queries(1) { start(1)=1, end(2)=300 varint ac 02, matcher(3) { type(1)=2, name(2)="a", value(3)="b" } }, types(2)=[0]
    expect([...bytes]).toEqual([
      0x0a, 0x0f, 0x08, 0x01, 0x10, 0xac, 0x02, 0x1a, 0x08, 0x08, 0x02, 0x12, 0x01, 0x61, 0x1a, 0x01, 0x62,
      0x12, 0x01, 0x00,
    ]);
  });

  it('decodes a response and rejects a truncated one with BAD_INPUT', () => {
    // results { timeseries { labels { "b"="2" } labels { "a"="1" } samples { 1.5 @ 7 } } }
    const sample = [0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x10, 0x07];
    const series = [
      0x0a,
      0x06,
      0x0a,
      0x01,
      0x62,
      0x12,
      0x01,
      0x32,
      0x0a,
      0x06,
      0x0a,
      0x01,
      0x61,
      0x12,
      0x01,
      0x31,
      0x12,
      sample.length,
      ...sample,
    ];
    const body = new Uint8Array([0x0a, series.length + 2, 0x0a, series.length, ...series]);
    const got = decodeReadResponse(body);
    expect(got).toEqual([
      [
        {
          labels: [
            { name: 'a', value: '1' },
            { name: 'b', value: '2' },
          ],
          t: [7],
          v: [1.5],
        },
      ],
    ]);
    expect(() => decodeReadResponse(body.subarray(0, body.length - 3))).toThrow(
      expect.objectContaining({ code: 'BAD_INPUT' }),
    );
  });
});

describe('import remote-read from Prometheus 3.16', () => {
  const reference = prometheusReference();
  const prometheus = reference.ok ? reference.backend.prometheus : undefined;
  const promtool = reference.ok ? reference.backend.promtool : undefined;
  const missing = reference.ok ? undefined : reference.reason;
  if (missing !== undefined) announceSkip('import remote-read', missing);

  let dir = '';
  let proc: ChildProcess | undefined;
  let url = '';
  const expected = new Map<string, [number, number][]>();

  beforeAll(async () => {
    if (missing !== undefined) throw new Error(missing);
    dir = await mkdtemp(join(tmpdir(), 'promstream-rr-'));
    // Three hours of two series, backfilled into the Prometheus data directory.
    const lines = ['# TYPE rr_value gauge'];
    for (let t = T0; t < T0 + 3 * HOUR; t += 30_000) {
      for (const k of ['x', 'y']) {
        // Adding 0 turns -0 into 0, as the text form writes it.
        const v = ((t - T0) / 1000) * (k === 'x' ? 1 : -0.5) + 0;
        lines.push(`rr_value{k="${k}"} ${v} ${t / 1000}`);
        const key = `{__name__="rr_value", k="${k}"}`;
        expected.set(key, [...(expected.get(key) ?? []), [t, v]]);
      }
    }
    lines.push('# EOF');
    await writeFile(join(dir, 'in.om'), `${lines.join('\n')}\n`);
    const data = join(dir, 'data');
    execFileSync(promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'in.om'), data], {
      stdio: 'pipe',
    });
    await writeFile(join(dir, 'prometheus.yml'), 'global: {}\n');
    const port = await freePort();
    proc = spawn(
      prometheus!,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${data}`,
        '--storage.tsdb.retention.time=100y',
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 300; i++) {
      const ok = await fetch(`${base}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    url = `${base}/api/v1/read`;
  });

  afterAll(async () => {
    proc?.kill('SIGTERM');
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(missing !== undefined)(
    'reads every sample of the range into blocks, and a rerun skips them',
    async () => {
      const store = new MemoryObjectStore();
      const r = await importRemoteRead(url, store, {
        from: T0,
        to: T0 + 3 * HOUR,
        match: ['rr_value'],
        tenant: 'rr',
      });
      expect(r.samples).toBe(3 * 120 * 2);
      const got = new Map<string, [number, number][]>();
      for (const meta of (await new BlockCatalog(tenantStore(store, 'rr')).refresh()).blocks) {
        const reader = await BlockReader.open(store, `rr/${meta.ulid}`);
        for (const s of await reader.select([newMatcher('=', '__name__', 'rr_value')], -Infinity, Infinity)) {
          const list = got.get(formatLabels(s.labels)) ?? [];
          const it = s.iterator();
          while (it.next() !== 0) list.push([it.atT(), it.at()]);
          got.set(formatLabels(s.labels), list);
        }
      }
      for (const list of got.values()) list.sort((a, b) => a[0] - b[0]);
      expect(got).toEqual(expected);
      const again = await importRemoteRead(url, store, {
        from: T0,
        to: T0 + 3 * HOUR,
        match: ['rr_value'],
        tenant: 'rr',
      });
      expect(again.copied).toEqual([]);
      expect(again.skipped.length).toBe(r.copied.length);
    },
  );

  it.skipIf(missing !== undefined)('answers an HTTP error from Prometheus with SOURCE_READ', async () => {
    await expect(
      importRemoteRead(url.replace('/api/v1/read', '/api/v1/nope'), new MemoryObjectStore(), {
        from: T0,
        to: T0 + HOUR,
        match: ['rr_value'],
      }),
    ).rejects.toMatchObject({ code: 'SOURCE_READ' });
  });
});
