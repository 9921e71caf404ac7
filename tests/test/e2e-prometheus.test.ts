import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createLogWriters, startGateway } from '@promstream/ingest';
import { type QueryServer, serveBlocks } from '@promstream/query';
import { startRegistry } from '@promstream/schemas';
import { listAll, objectStoreFromUrl } from '@promstream/storage';
import { runBlockBuilder, runReplay } from '@promstream/stream-processors';
import {
  announceSkip,
  freePort,
  prometheusReference,
  realKafka,
  realS3,
  repoRoot,
  startEmbeddedBroker,
  waitForPort,
} from '@promstream/testkit';
import { pino } from 'pino';
import { afterAll, describe, expect, test } from 'vitest';

// Prometheus 3.16 (the PromQL reference) scrapes itself every second and
// remote-writes into our gateway on a real Kafka; blocks go to the real S3 server. `promtool query
// range` against our API must print what it prints against Prometheus, over
// a window that spans cut blocks and the log-tail head. Then the bucket is
// deleted, the log replayed, and the answers must not change.

const run = promisify(execFile);
const kafka = realKafka();
const s3 = realS3();
const reference = prometheusReference();
const prometheus = reference.ok ? reference.backend.prometheus : undefined;
const promtool = reference.ok ? reference.backend.promtool : undefined;
const tools = reference.ok ? undefined : reference.reason;
const built = existsSync(path.join(repoRoot, 'infra', 'dist', 'cli', 'main.js'))
  ? undefined
  : 'infra is not built (npm test builds it first)';

/** The S3 server's settings, passed to the stores as the configuration would. */
const s3Settings = s3.ok
  ? {
      endpoint: s3.backend.endpoint,
      region: s3.backend.region,
      accessKeyId: s3.backend.accessKeyId,
      secretAccessKey: s3.backend.secretAccessKey,
    }
  : undefined;

interface Backend {
  name: string;
  skip: string | undefined;
  /** The log and the bucket of one run; the store URL may name a folder of `dir`. */
  start(dir: string, id: string): Promise<{ brokers: string[]; storeUrl: string; stop(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'Apache Kafka and the S3 server',
    skip: tools ?? (!kafka.ok ? kafka.reason : !s3.ok ? s3.reason : undefined),
    start: async (_dir, id) => {
      const bucket = s3.ok ? s3.backend : undefined;
      return {
        brokers: kafka.ok ? kafka.backend.brokers : [],
        storeUrl: `s3://${bucket?.bucket}/e2e-prom-${id}?endpoint=${encodeURIComponent(bucket?.endpoint ?? '')}&region=${bucket?.region}`,
        stop: async () => {},
      };
    },
  },
  {
    name: 'the embedded broker and a filesystem bucket',
    skip: tools ?? built,
    start: async (dir) => {
      const log = await startEmbeddedBroker();
      if (!log.ok) throw new Error(log.reason);
      return { brokers: log.backend.brokers, storeUrl: `file://${dir}/blocks`, stop: log.backend.stop };
    },
  },
];
for (const backend of backends)
  if (backend.skip !== undefined)
    announceSkip(`Prometheus remote write and promtool end to end on ${backend.name}`, backend.skip);

const logger = pino({ level: process.env.E2E_LOG ?? 'silent' });
const BLOCK = 15_000;
const OOO = 3_000;
const TENANT = 'anonymous';
const EXPRESSIONS = [
  'up',
  'prometheus_tsdb_head_samples_appended_total',
  'sum by (job) (prometheus_tsdb_head_series)',
  'rate(prometheus_tsdb_head_samples_appended_total[10s])',
  'max_over_time(go_goroutines[5s])',
];

async function promtoolRange(url: string, expr: string, start: number, end: number): Promise<string> {
  const { stdout } = await run(promtool!, [
    'query',
    'range',
    `--start=${start}`,
    `--end=${end}`,
    '--step=1s',
    '--header=X-Read-Consistency: strong',
    `--header=X-Scope-OrgID: ${TENANT}`,
    url,
    expr,
  ]);
  return stdout;
}

for (const backend of backends)
  describe.skipIf(backend.skip !== undefined)(
    `Prometheus remote write through promstream on ${backend.name}, queried with promtool`,
    () => {
      let brokers: string[] = [];
      const id = randomUUID();
      const topic = `e2e-prom-${id}`;
      let storeUrl = '';
      const dir = mkdtempSync(path.join(tmpdir(), 'promstream-e2e-prom-'));
      const stops: (() => Promise<unknown>)[] = [];
      let prom: ChildProcess | undefined;
      let promUrl = '';

      afterAll(async () => {
        prom?.kill('SIGKILL');
        for (const stop of stops.reverse()) await stop().catch(() => {});
        if (storeUrl === '') return;
        const store = objectStoreFromUrl(storeUrl, s3Settings);
        for (const o of await listAll(store, '', { recursive: true }).catch(() => []))
          await store.delete(o.key);
        rmSync(dir, { recursive: true, force: true });
      });

      async function startQuery(registryUrl: string): Promise<QueryServer> {
        const server = await serveBlocks({
          store: storeUrl,
          s3: s3Settings,
          port: await freePort(),
          brokers,
          registryUrl,
          samplesTopic: topic,
          defaultTenant: TENANT,
          catalogRefreshMs: 1000,
          logger,
        });
        return server;
      }

      test('promtool gets the same answers from promstream as from Prometheus, then after a replay', async () => {
        const log = await backend.start(dir, id);
        brokers = log.brokers;
        storeUrl = log.storeUrl;
        stops.push(() => log.stop());
        const registry = await startRegistry({ brokers, port: await freePort(), topic: `_schemas-${id}` });
        stops.push(() => registry.close());
        const writers = createLogWriters({
          brokers,
          registryUrl: registry.url,
          samplesTopic: topic,
          eventsTopic: `${topic}-events`,
          samplePartitions: 2,
        });
        const gateway = await startGateway({
          sink: writers.samples,
          producer: writers.producer,
          port: await freePort(),
          logger,
        });
        stops.push(() => gateway.close());
        const dataPath = {
          brokers,
          registryUrl: registry.url,
          storeUrl,
          s3: s3Settings,
          topic,
          blockDuration: BLOCK,
          outOfOrderWindow: OOO,
          logger,
        };
        const builder = await runBlockBuilder({ ...dataPath, groupId: `e2e-prom-${id}` });
        let builderStopped = false;
        stops.push(async () => {
          if (!builderStopped) await builder.stop();
        });
        const query = await startQuery(registry.url);
        stops.push(() => query.close());

        const promPort = await freePort();
        promUrl = `http://127.0.0.1:${promPort}`;
        writeFileSync(
          path.join(dir, 'prometheus.yml'),
          [
            'global:',
            '  scrape_interval: 1s',
            'scrape_configs:',
            '  - job_name: prom',
            '    static_configs:',
            `      - targets: ['127.0.0.1:${promPort}']`,
            'remote_write:',
            `  - url: ${gateway.url}/api/v1/write`,
            '    queue_config:',
            '      batch_send_deadline: 500ms',
          ].join('\n'),
        );
        prom = spawn(
          prometheus!,
          [
            `--config.file=${path.join(dir, 'prometheus.yml')}`,
            `--storage.tsdb.path=${path.join(dir, 'data')}`,
            `--web.listen-address=127.0.0.1:${promPort}`,
          ],
          { stdio: 'ignore' },
        );
        await waitForPort('127.0.0.1', promPort, 30_000);
        const started = Math.ceil(Date.now() / 1000);
        // Long enough for at least two blocks per partition to be cut behind the head.
        await new Promise((r) => setTimeout(r, 50_000));
        // Past the series starts, where rate extrapolation differs by Prometheus version.
        const start = started + 25;
        // Freeze the blocks: from here on the head holds everything after the builder's boundary.
        await builder.stop();
        builderStopped = true;
        const statuses = builder.status();
        const target = Math.floor(Date.now() / 1000) - 6;
        let end = target;
        // Prometheus sends from its WAL a few seconds behind its scrapes: wait until our side has the window's end.
        const deadline = Date.now() + 30_000;
        for (;;) {
          const res = await fetch(
            `${query.url}/api/v1/query?query=${encodeURIComponent('max(timestamp({job="prom"}))')}`,
            { headers: { 'X-Read-Consistency': 'strong', 'X-Scope-OrgID': TENANT } },
          );
          const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
          const newest = Number(body.data.result[0]?.value[1] ?? 0);
          if (newest >= target) {
            // The window ends just before our newest sample, so its last seconds are still in the head.
            end = Math.floor(newest) - 1;
            break;
          }
          if (Date.now() > deadline)
            throw new Error(`promstream holds samples up to ${newest}, not ${target}`);
          await new Promise((r) => setTimeout(r, 500));
        }

        expect(statuses.length).toBe(2);
        for (const s of statuses) expect(s.boundary).toBeGreaterThan(start * 1000);
        expect(
          Math.min(...statuses.map((s) => s.boundary)),
          JSON.stringify({ end, target, statuses }),
        ).toBeLessThan(end * 1000);
        const blocks = (
          await listAll(objectStoreFromUrl(storeUrl, s3Settings), `${TENANT}/`, { recursive: true })
        ).filter((o) => o.key.endsWith('meta.json'));
        expect(blocks.length).toBeGreaterThanOrEqual(2);

        const reference = new Map<string, string>();
        for (const expr of EXPRESSIONS) {
          const want = await promtoolRange(promUrl, expr, start, end);
          expect(want.split('\n').length, expr).toBeGreaterThan(10);
          reference.set(expr, want);
          expect(await promtoolRange(query.url, expr, start, end), expr).toBe(want);
        }

        // Recovery: the bucket is lost; replaying the log rebuilds it and the answers stay.
        await query.close();
        const store = objectStoreFromUrl(storeUrl, s3Settings);
        for (const o of await listAll(store, '', { recursive: true })) await store.delete(o.key);
        const replayed = await runReplay(dataPath);
        expect(replayed.blocks).toBeGreaterThanOrEqual(blocks.length);
        const after = await startQuery(registry.url);
        stops.push(() => after.close());
        for (const expr of EXPRESSIONS)
          expect(await promtoolRange(after.url, expr, start, end), expr).toBe(reference.get(expr));
      }, 180_000);
    },
  );
