import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeV1, type WriteSeries } from '@promstream/ingest';
import { createLogClient } from '@promstream/log';
import { Engine, startReadPath } from '@promstream/query';
import { createSerdes, type RunningRegistry, startRegistry } from '@promstream/schemas';
import { type Labels, listAll, type ObjectStore, objectStoreFromUrl } from '@promstream/storage';
import {
  announceSkip,
  freePort,
  prometheusReference,
  realKafka,
  realS3,
  waitForPort,
} from '@promstream/testkit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import snappy from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelsFrom, labelsId } from './labels-util.js';
import { LogRuleSink } from './log-sink.js';
import { type RunningRules, startRules } from './run.js';

// The same rule file in Prometheus 3.16 and in the rules role, over the same
// samples (remote-written to Prometheus, written to the samples topic for
// us) as they arrive: the recorded series, ALERTS and ALERTS_FOR_STATE agree
// at every evaluation both ran. Both slot the group by the same hash of its
// name and file, so they evaluate at the same times; an instance goes down
// once both run, so both see the alert start pending at the same evaluation.

const kafka = realKafka();
const s3 = realS3();
const reference = prometheusReference();
const reason = !kafka.ok ? kafka.reason : !s3.ok ? s3.reason : !reference.ok ? reference.reason : undefined;
if (reason !== undefined) announceSkip('rules equal to Prometheus 3.16', reason);

const INTERVAL = 5000;
const RULES = `groups:
  - name: equality
    interval: 5s
    query_offset: 2s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - record: job:requests:rate30s
        expr: sum by (job) (rate(requests_total[30s]))
      - record: job:up:ratio
        expr: job:up:sum / on (job) count by (job) (up)
      - alert: InstanceDown
        expr: up == 0
        for: 10s
        labels: {severity: page}
`;
const COMPARED = ['job:up:sum', 'job:requests:rate30s', 'job:up:ratio', 'ALERTS', 'ALERTS_FOR_STATE'];

type Points = Map<string, [number, number][]>;

function series(t: number, down: (t: number) => boolean): { labels: Labels; v: number }[] {
  return [
    { labels: labelsFrom({ __name__: 'up', job: 'api', instance: 'a' }), v: 1 },
    { labels: labelsFrom({ __name__: 'up', job: 'api', instance: 'b' }), v: down(t) ? 0 : 1 },
    { labels: labelsFrom({ __name__: 'requests_total', job: 'api', instance: 'a' }), v: (t / 1000) * 3 },
  ];
}

async function remoteWrite(url: string, t: number, list: { labels: Labels; v: number }[]): Promise<void> {
  const body: WriteSeries[] = list.map((s) => ({
    labels: [...s.labels],
    timestamps: [t],
    values: [s.v],
    histograms: [],
    exemplars: 0,
  }));
  const res = await fetch(`${url}/api/v1/write`, {
    method: 'POST',
    headers: {
      'Content-Encoding': 'snappy',
      'Content-Type': 'application/x-protobuf',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
    },
    body: snappy.compressSync(Buffer.from(encodeV1(body))),
  });
  if (res.status >= 300) throw new Error(`remote write: ${res.status} ${await res.text()}`);
}

async function prometheusPoints(url: string, name: string, end: number): Promise<Points> {
  const q = new URLSearchParams({ query: `${name}[2m]`, time: String(end / 1000) });
  const body = (await (await fetch(`${url}/api/v1/query?${q}`)).json()) as {
    data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
  };
  const out: Points = new Map();
  for (const r of body.data.result)
    out.set(
      labelsId(labelsFrom(r.metric)),
      r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]),
    );
  return out;
}

async function retry(f: () => Promise<void>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (err) {
      if (i >= 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe.skipIf(reason !== undefined)('rules equal to Prometheus 3.16', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  const id = randomUUID();
  const dir = mkdtempSync(path.join(tmpdir(), 'promstream-rules-eq-'));
  const rulesFile = path.join(dir, 'rules.yml');
  const logger = pino({ level: 'silent' });
  const client = createLogClient({ clientId: 'rules-eq', brokers, logger });
  let prometheus: ChildProcess;
  let promUrl = '';
  let registry: RunningRegistry;
  let store: ObjectStore;
  let running: RunningRules;

  beforeAll(async () => {
    writeFileSync(rulesFile, RULES);
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      `global:\n  evaluation_interval: 5s\nrule_files:\n  - ${rulesFile}\n`,
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      reference.ok ? reference.backend.prometheus : '',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-remote-write-receiver',
      ],
      { stdio: 'ignore' },
    );
    await waitForPort('127.0.0.1', port, 30_000);
    const b = s3.ok ? s3.backend : undefined;
    const url = `s3://${b!.bucket}/rules-eq-${id}?endpoint=${encodeURIComponent(b!.endpoint)}&region=${b!.region}`;
    store = objectStoreFromUrl(url, { accessKeyId: b!.accessKeyId, secretAccessKey: b!.secretAccessKey });
    registry = await startRegistry({ brokers, port: await freePort(), topic: `_schemas-${id}` });
  }, 60_000);

  afterAll(async () => {
    // Prometheus writes its head on the way out: its folder is removed once it has exited.
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await running?.stop();
    await registry?.close();
    await client.close();
    rmSync(dir, { recursive: true, force: true });
    if (store !== undefined)
      for (const o of await listAll(store, '', { recursive: true })) await store.delete(o.key);
  });

  it('records the same series and alerts at every evaluation', async () => {
    const samplesTopic = `rules-eq-samples-${id}`;
    const derivedTopic = `rules-eq-derived-${id}`;
    const producer = client.producer({ ensureTopics: [{ topic: samplesTopic, partitions: 2 }] });
    const sink = new LogRuleSink({
      producer,
      serde: createSerdes({ registryUrl: registry.url }).sampleBatch,
      topic: samplesTopic,
    });
    let switchAt = Number.POSITIVE_INFINITY;
    let recoverAt = Number.POSITIVE_INFINITY;
    const down = (t: number) => t >= switchAt && t < recoverAt;
    let writing = true;
    // One sample per series and second, to both sides, stamped with the second it is written in.
    const writer = (async () => {
      while (writing) {
        const t = Math.floor(Date.now() / 1000) * 1000;
        const list = series(t, down);
        await Promise.all([
          remoteWrite(promUrl, t, list),
          // A new topic may take a moment to have its leaders; the write is tried again, never dropped.
          retry(() =>
            sink.write(
              'anonymous',
              list.map((s) => ({ ...s, t })),
            ),
          ),
        ]);
        await new Promise((r) => setTimeout(r, t + 1000 - Date.now()));
      }
    })();
    running = await startRules({
      brokers,
      registryUrl: registry.url,
      store,
      samplesTopic,
      derivedTopic,
      derivedPartitions: 2,
      files: rulesFile,
      tenant: 'anonymous',
      host: '127.0.0.1',
      port: 0,
      evaluationInterval: INTERVAL,
      readTimeout: 10_000,
      logger,
      registry: new Registry(),
    });
    // Both run from here on; the instance goes down two evaluations later and comes back after 25 s.
    const bothFrom = Date.now() + INTERVAL;
    switchAt = Math.ceil((bothFrom + 2 * INTERVAL) / 1000) * 1000;
    recoverAt = switchAt + 25_000;
    const end = recoverAt + 15_000;
    await new Promise((r) => setTimeout(r, end + 3000 - Date.now()));
    writing = false;
    await writer;

    const read = await startReadPath({
      store,
      brokers,
      registryUrl: registry.url,
      topics: [derivedTopic],
      logger,
    });
    try {
      await read.waitForLatest(10_000);
      const engine = new Engine();
      const window = ([t]: [number, number]) => t >= bothFrom && t <= end;
      let compared = 0;
      for (const name of COMPARED) {
        const theirs = await prometheusPoints(promUrl, name, end);
        const r = await engine.instantQuery(await read.querier('anonymous'), `${name}[2m]`, end);
        const ours: Points = new Map();
        if (r.value.resultType === 'matrix')
          for (const s of r.value.result)
            ours.set(
              labelsId(s.metric),
              Array.from(s.floats.t, (t, i) => [t, s.floats.f[i] as number]),
            );
        const pick = (p: Points): Record<string, [number, number][]> => {
          const out: Record<string, [number, number][]> = {};
          for (const [k, pts] of p) {
            const kept = pts.filter(window);
            if (kept.length > 0) out[k] = kept;
          }
          return out;
        };
        expect(pick(ours), name).toEqual(pick(theirs));
        compared += Object.values(pick(theirs)).reduce((n, pts) => n + pts.length, 0);
      }
      // Every rule produced output in the window: several evaluations of each, firing included.
      expect(compared).toBeGreaterThan(20);
      const firing = await prometheusPoints(promUrl, 'ALERTS{alertstate="firing"}', end);
      expect(firing.size).toBe(1);
    } finally {
      await read.stop();
    }
  }, 120_000);
});
