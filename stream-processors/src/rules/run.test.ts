import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogClient } from '@promstream/log';
import { Engine, startReadPath } from '@promstream/query';
import { createSerdes, type RunningRegistry, startRegistry } from '@promstream/schemas';
import {
  BlockReader,
  listAll,
  newMatcher,
  type ObjectStore,
  objectStoreFromUrl,
  ValueType,
} from '@promstream/storage';
import { announceSkip, freePort, realKafka, realS3 } from '@promstream/testkit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBlockBuilder } from '../wiring/compose.js';
import { labelsFrom } from './labels-util.js';
import { LogRuleSink } from './log-sink.js';
import { type RunningRules, startRules } from './run.js';

// The rules role on real Kafka and the real S3 server: samples written to a
// samples topic are evaluated, recorded series and ALERTS land on the derived
// topic (read back through the query tier's read path), the API reports every
// rule's health, a failing rule does not stop the others, and reloads apply.

const kafka = realKafka();
if (!kafka.ok) announceSkip('rules role on real Kafka', kafka.reason);
const s3 = realS3();
if (!s3.ok) announceSkip('rules role on the real S3 server', s3.reason);

const logger = pino({ level: 'silent' });
const RULES = `groups:
  - name: fast
    interval: 1s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - record: broken
        expr: up * on() up
      - record: job:up:double
        expr: job:up:sum * 2
      - alert: Down
        expr: up == 0
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.instance }} is down ({{ $value }})"
`;

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!kafka.ok || !s3.ok)('rules role on real Kafka and S3', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  const id = randomUUID();
  const samplesTopic = `rules-samples-${id}`;
  const derivedTopic = `rules-derived-${id}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'promstream-rules-'));
  const file = path.join(dir, 'rules.yml');
  let registry: RunningRegistry;
  let store: ObjectStore;
  let storeUrl = '';
  let running: RunningRules;
  const client = createLogClient({ clientId: 'rules-test', brokers, logger });

  beforeAll(async () => {
    const b = s3.ok ? s3.backend : undefined;
    const url = `s3://${b!.bucket}/rules-${id}?endpoint=${encodeURIComponent(b!.endpoint)}&region=${b!.region}`;
    storeUrl = url;
    store = objectStoreFromUrl(url, { accessKeyId: b!.accessKeyId, secretAccessKey: b!.secretAccessKey });
    registry = await startRegistry({ brokers, port: await freePort(), topic: `_schemas-${id}` });
    const producer = client.producer({ ensureTopics: [{ topic: samplesTopic, partitions: 2 }] });
    const sink = new LogRuleSink({
      producer,
      serde: createSerdes({ registryUrl: registry.url }).sampleBatch,
      topic: samplesTopic,
    });
    const now = Date.now();
    const samples = [];
    for (let t = now - 120_000; t <= now + 60_000; t += 5000) {
      samples.push({ labels: labelsFrom({ __name__: 'up', job: 'api', instance: 'a' }), t, v: 1 });
      samples.push({ labels: labelsFrom({ __name__: 'up', job: 'api', instance: 'b' }), t, v: 0 });
    }
    await sink.write('team-a', samples);
    writeFileSync(file, RULES);
    running = await startRules({
      brokers,
      registryUrl: registry.url,
      store,
      samplesTopic,
      derivedTopic,
      derivedPartitions: 2,
      files: path.join(dir, '*.yml'),
      tenant: 'team-a',
      host: '127.0.0.1',
      port: 0,
      evaluationInterval: 1000,
      readTimeout: 10_000,
      logger,
      registry: new Registry(),
    });
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    await registry?.close();
    await client.close();
    rmSync(dir, { recursive: true, force: true });
    if (store !== undefined)
      for (const o of await listAll(store, '', { recursive: true })) await store.delete(o.key);
  });

  it('reports each rule in /api/v1/rules, the failing one with its error, and counts the failure', async () => {
    const groups = await until('an evaluation', async () => {
      const body = (await (
        await fetch(`${running.url}/api/v1/rules`, { headers: { 'X-Scope-OrgID': 'team-a' } })
      ).json()) as {
        data: { groups: { rules: { name: string; health: string; lastError?: string; type: string }[] }[] };
      };
      const rules = body.data.groups[0]?.rules ?? [];
      return rules.every((r) => r.health !== 'unknown') && rules.length === 4 ? rules : undefined;
    });
    expect(
      groups.map((r) => [r.name, r.type, r.health]),
      JSON.stringify(groups),
    ).toEqual([
      ['job:up:sum', 'recording', 'ok'],
      ['broken', 'recording', 'err'],
      ['job:up:double', 'recording', 'ok'],
      ['Down', 'alerting', 'ok'],
    ]);
    expect(groups[1]!.lastError).toMatch(/many-to-many/);
    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    expect(metrics).toMatch(
      /promstream_rule_evaluation_failures_total\{tenant="team-a",rule_group="fast"\} [1-9]/,
    );
  });

  it('lists the firing alert in /api/v1/alerts with its labels and annotations', async () => {
    const alert = await until('a firing alert', async () => {
      const body = (await (
        await fetch(`${running.url}/api/v1/alerts`, { headers: { 'X-Scope-OrgID': 'team-a' } })
      ).json()) as {
        data: {
          alerts: { labels: Record<string, string>; annotations: Record<string, string>; state: string }[];
        };
      };
      return body.data.alerts.find((a) => a.state === 'firing');
    });
    expect(alert.labels).toEqual({ alertname: 'Down', severity: 'page', job: 'api', instance: 'b' });
    expect(alert.annotations).toEqual({ summary: 'b is down (0)' });
  });

  it('writes recorded series and ALERTS to the derived topic, readable as the query tier reads them', async () => {
    const read = await startReadPath({
      store,
      brokers,
      registryUrl: registry.url,
      topics: [derivedTopic],
      logger,
    });
    try {
      const engine = new Engine();
      const value = async (expr: string) => {
        await read.waitForLatest(10_000);
        const r = await engine.instantQuery(await read.querier('team-a'), expr, Date.now());
        return r.value.resultType === 'vector' ? r.value.result.map((s) => s.f) : [];
      };
      expect(
        await until('job:up:double', async () =>
          (await value('job:up:double')).length > 0 ? value('job:up:double') : undefined,
        ),
      ).toEqual([2]);
      expect(await value('job:up:sum')).toEqual([1]);
      // ALERTS are written from the evaluation after the one that restored alert state.
      const firing = 'ALERTS{alertname="Down", alertstate="firing", instance="b"}';
      expect(
        await until('ALERTS', async () => ((await value(firing)).length > 0 ? value(firing) : undefined)),
      ).toEqual([1]);
      expect(await value('broken')).toEqual([]);
      // Another tenant's view holds none of it.
      const other = await engine.instantQuery(await read.querier('team-b'), 'job:up:sum', Date.now());
      expect(other.value.resultType === 'vector' && other.value.result.length).toBe(0);
    } finally {
      await read.stop();
    }
  });

  it('has the block builder turn the derived topic into blocks holding the recorded series', async () => {
    const b = s3.ok ? s3.backend : undefined;
    const builder = await runBlockBuilder({
      brokers,
      registryUrl: registry.url,
      storeUrl,
      s3: { accessKeyId: b!.accessKeyId, secretAccessKey: b!.secretAccessKey },
      topic: derivedTopic,
      groupId: `rules-derived-builder-${id}`,
      blockDuration: 2000,
      outOfOrderWindow: 1000,
      logger,
    });
    try {
      const values = await until(
        'a block of the derived topic',
        async () => {
          const metas = (await listAll(store, 'team-a/', { recursive: true })).filter((o) =>
            o.key.endsWith('/meta.json'),
          );
          const found: number[] = [];
          for (const m of metas) {
            const reader = await BlockReader.open(store, m.key.slice(0, -'/meta.json'.length));
            for (const series of await reader.select(
              [newMatcher('=', '__name__', 'job:up:sum')],
              -Infinity,
              Infinity,
            )) {
              const it = series.iterator();
              while (it.next() === ValueType.Float) found.push(it.at());
            }
          }
          return found.length > 0 ? found : undefined;
        },
        60_000,
      );
      expect(new Set(values)).toEqual(new Set([1]));
    } finally {
      await builder.stop();
    }
  }, 90_000);

  it('reloads on POST /-/reload, and keeps the running rules when the new file is bad', async () => {
    writeFileSync(file, `${RULES}      - record: added\n        expr: vector(1)\n`);
    expect((await fetch(`${running.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    expect(running.manager.groups('team-a')[0]!.group.rules.map((r) => r.name)).toContain('added');
    writeFileSync(file, 'groups:\n  - name: fast\n    rules:\n      - record: x\n        expr: sum(\n');
    const bad = await fetch(`${running.url}/-/reload`, { method: 'POST' });
    expect(bad.status).toBe(500);
    expect(await bad.text()).toMatch(/could not parse expression/);
    expect(running.manager.groups('team-a')[0]!.group.rules.map((r) => r.name)).toContain('added');
  });
});
