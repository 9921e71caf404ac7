/**
 * Rule evaluation benchmark: 1,000 recording rules (10 groups of 100, 15 s
 * interval) over 100,000 series with five minutes of samples at 15 s, each
 * rule a `sum by (job) (rate(...[2m]))` over its 100 series of one shard.
 * Our side evaluates the groups with the engine over the query head's store
 * (the evaluation alone: no strong read of the log, no log write) and reports the
 * evaluation time per group, p50/p99; Prometheus 3.16 gets the same samples
 * by remote write and the same rule file, and reports its groups'
 * `evaluationTime` in /api/v1/rules. Printed: both and the ratio.
 *
 * Run: `npm run bench:rules -w @promstream/stream-processors` (under
 * `flock /tmp/promstream-bench.lock` on a shared machine).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeV1, type WriteSeries } from '@promstream/ingest';
import { Engine, HeadStore } from '@promstream/query';
import { freePort, prometheusReference, waitForPort } from '@promstream/testkit';
import snappy from 'snappy';
import { RuleGroup } from './group.js';
import { labelsFrom } from './labels-util.js';
import { parseRuleFile } from './rule-file.js';

const SERIES = 100_000;
const SHARDS = 1000;
const GROUPS = 10;
const STEP = 15_000;
const POINTS = 20;

function ruleFile(): string {
  const lines = ['groups:'];
  for (let g = 0; g < GROUPS; g++) {
    lines.push(`  - name: bench-${g}`, '    interval: 15s', '    rules:');
    for (let r = 0; r < SHARDS / GROUPS; r++) {
      const shard = g * (SHARDS / GROUPS) + r;
      lines.push(
        `      - record: shard:requests:rate2m_${shard}`,
        `        expr: sum by (job) (rate(bench_requests_total{shard="${shard}"}[2m]))`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function seriesLabels(i: number) {
  return labelsFrom({
    __name__: 'bench_requests_total',
    job: `job-${i % 10}`,
    instance: `host-${i}`,
    shard: String(i % SHARDS),
  });
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function ours(end: number, text: string): Promise<number[]> {
  // The query head's store, the structure the role reads the log tail from.
  const head = new HeadStore();
  const ts = Array.from({ length: POINTS }, (_, p) => end - (POINTS - 1 - p) * STEP);
  for (let i = 0; i < SERIES; i++)
    head.append(
      0,
      'bench',
      seriesLabels(i),
      ts,
      Array.from({ length: POINTS }, (_, p) => p * (i % 7)),
      0,
    );
  const storage = head.querier('bench');
  const engine = new Engine();
  const groups = parseRuleFile(text, 'bench.yml').groups.map(
    (spec) =>
      new RuleGroup(spec, {
        engine,
        tenant: 'bench',
        source: { querier: async () => storage },
        sink: { write: async () => {} },
      }),
  );
  const times: number[] = [];
  for (let round = 0; round < 5; round++)
    for (const g of groups) {
      await g.evaluate(end + round * 1000);
      if (g.health.some((h) => h.health !== 'ok')) throw new Error(`group ${g.name} failed`);
      times.push(g.evaluationTime);
    }
  return times.sort((a, b) => a - b);
}

async function remoteWriteAll(url: string, end: number): Promise<void> {
  const batch = 2000;
  for (let from = 0; from < SERIES; from += batch) {
    const series: WriteSeries[] = [];
    for (let i = from; i < Math.min(SERIES, from + batch); i++)
      series.push({
        labels: [...seriesLabels(i)],
        timestamps: Array.from({ length: POINTS }, (_, p) => end - (POINTS - 1 - p) * STEP),
        values: Array.from({ length: POINTS }, (_, p) => p * (i % 7)),
        histograms: [],
        exemplars: 0,
      });
    const res = await fetch(`${url}/api/v1/write`, {
      method: 'POST',
      headers: {
        'Content-Encoding': 'snappy',
        'Content-Type': 'application/x-protobuf',
        'X-Prometheus-Remote-Write-Version': '0.1.0',
      },
      body: snappy.compressSync(Buffer.from(encodeV1(series))),
    });
    if (res.status >= 300) throw new Error(`remote write: ${res.status} ${await res.text()}`);
  }
}

async function prometheus(end: number, text: string): Promise<number[] | string> {
  const ref = prometheusReference();
  if (!ref.ok) return ref.reason;
  const dir = mkdtempSync(path.join(tmpdir(), 'promstream-rules-bench-'));
  writeFileSync(path.join(dir, 'rules.yml'), text);
  writeFileSync(
    path.join(dir, 'p.yml'),
    `global:\n  evaluation_interval: 15s\nrule_files:\n  - ${dir}/rules.yml\n`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    ref.backend.prometheus,
    [
      `--config.file=${dir}/p.yml`,
      `--storage.tsdb.path=${dir}/tsdb`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
    ],
    { stdio: 'ignore' },
  );
  try {
    await waitForPort('127.0.0.1', port, 30_000);
    await remoteWriteAll(url, end);
    // Each group evaluates within 15 s of its first slot; take three evaluations of each.
    const seen = new Map<string, number[]>();
    const evaluations = new Set<string>();
    const deadline = Date.now() + 70_000;
    while (Date.now() < deadline && [...seen.values()].filter((v) => v.length >= 3).length < GROUPS) {
      const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
        data: { groups: { name: string; evaluationTime: number; lastEvaluation: string }[] };
      };
      for (const g of body.data.groups) {
        const key = `${g.name}@${g.lastEvaluation}`;
        if (g.lastEvaluation.startsWith('0001') || evaluations.has(key)) continue;
        evaluations.add(key);
        seen.set(g.name, [...(seen.get(g.name) ?? []), g.evaluationTime]);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    return [...seen.values()].flat().sort((a, b) => a - b);
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const text = ruleFile();
  const end = Math.floor(Date.now() / STEP) * STEP;
  const mine = await ours(end, text);
  const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
  console.log(`rules bench: ${SERIES} series, ${SHARDS} recording rules in ${GROUPS} groups, 15 s interval`);
  console.log(
    `promstream  group evaluation: p50 ${ms(quantile(mine, 0.5))}, p99 ${ms(quantile(mine, 0.99))} (${mine.length} evaluations, query head store)`,
  );
  const theirs = await prometheus(end, text);
  if (typeof theirs === 'string') {
    console.log(`prometheus  not run: ${theirs}`);
    return;
  }
  if (theirs.length === 0) {
    console.log('prometheus  reported no evaluation');
    return;
  }
  console.log(
    `prometheus  group evaluation: p50 ${ms(quantile(theirs, 0.5))}, p99 ${ms(quantile(theirs, 0.99))} (${theirs.length} evaluations, Prometheus 3.16)`,
  );
  console.log(
    `ratio (promstream p99 / Prometheus p99): ${(quantile(mine, 0.99) / quantile(theirs, 0.99)).toFixed(2)}x`,
  );
}

await main();
