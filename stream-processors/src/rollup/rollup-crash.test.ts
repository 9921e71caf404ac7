import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { registerZstdCodec } from '@promstream/log';
import { announceSkip, realKafka, repoRoot } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, test } from 'vitest';
import type { DecodedBatch } from '../block-builder/seams.js';
import { PartitionAggregator } from './aggregator.js';
import { Combiner } from './combiner.js';
import { parseRollupConfig } from './config.js';
import { denum } from './group-state.js';

// Exactly once against the real Kafka: rollup processes killed (SIGKILL) at
// each fault point of each stage, then restarted, write the same aggregates
// as an uninterrupted process, and both equal the in-memory model of the
// same records. Repeated records must carry the same value.

const kafka = realKafka();
if (!kafka.ok) announceSkip('rollups exactly once on Kafka', kafka.reason);

const RULES = `
- match: 'req'
  interval: 10s
  without: [instance]
  outputs: [total, increase, sum_samples, count_series, max, last, 'quantiles(0.5)']
- match: '{__name__="req", job="b"}'
  interval: 20s
  by: [job]
  outputs: [count_samples, avg]
`;
const SOURCES = 3;
const LATE_MS = 2000;
// An hour ago, on a minute: records much older than the topic's retention would be deleted under the test.
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;

/** The records of each samples partition, in order: 6 series, a sample a second, some a little late. */
function load(): DecodedBatch[][] {
  const parts: DecodedBatch[][] = Array.from({ length: SOURCES }, () => []);
  for (let s = 0; s < 240; s++) {
    for (let p = 0; p < SOURCES; p++) {
      const series = [0, 1].map((i) => {
        const inst = `${p}-${i}`;
        const late = (s * 7 + i) % 11 === 0 ? 1500 : 0;
        const v = s % 97 === 50 + p ? s : s * (i + 1) * 3 + p;
        return {
          labels: [
            { name: '__name__', value: 'req' },
            { name: 'instance', value: inst },
            { name: 'job', value: i === 0 ? 'a' : 'b' },
          ],
          t: [T0 + s * 1000 - late],
          v: [v],
        };
      });
      parts[p]!.push({ tenant: 'crash', series, skippedHistograms: 0 });
    }
  }
  return parts;
}

/** What the processors must write: the two stages run in memory over the same records. */
function model(parts: DecodedBatch[][]): Map<string, number> {
  const rules = parseRollupConfig(RULES);
  const aggs = parts.map(
    (_, source) => new PartitionAggregator({ rules, source, lateMs: LATE_MS, partialsPartitions: SOURCES }),
  );
  const combiners = Array.from({ length: SOURCES }, () => new Combiner(rules, SOURCES));
  const out = new Map<string, number>();
  parts.forEach((records, p) => {
    for (const b of records)
      for (const r of aggs[p]!.add(b))
        for (const o of combiners[r.partition]!.add(r.value))
          for (const s of o.samples) out.set(sampleId(o.tenant, s.labels, o.t), s.value);
  });
  return out;
}

function sampleId(tenant: string, labels: readonly { name: string; value: string }[], t: number): string {
  return `${tenant}|${labels.map((l) => `${l.name}=${l.value}`).join(',')}@${t}`;
}

describe.skipIf(!kafka.ok)('rollups exactly once on the real Kafka', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  // The processors write zstd batches.
  registerZstdCodec();
  const client = new Kafka({ clientId: 'rollup-crash-test', brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  const run = randomUUID().slice(0, 8);
  const samplesTopic = `rollup-crash-samples-${run}`;
  const topics: string[] = [samplesTopic];
  const dirs: string[] = [];
  const children = new Set<ChildProcess>();
  const parts = load();
  const expected = model(parts);

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function spawnChild(settings: Record<string, unknown>, fault?: string) {
    // Node itself with tsx as a loader, so a kill reaches the processor and not a wrapper.
    const script = path.join(repoRoot, 'stream-processors/test/rollup-child.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@promstream/source', script], {
      cwd: repoRoot,
      env: { ...process.env, ROLLUP_CHILD: JSON.stringify(settings), ROLLUP_FAULT: fault ?? '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    children.add(child);
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.once('exit', (code, signal) => {
        children.delete(child);
        resolve(signal ?? code);
      }),
    );
    return { child, exited, stderr: () => stderr };
  }

  /** Reads the derived topic until it holds every expected sample; checks repeats carry one value. */
  async function readDerived(
    topic: string,
    until: Promise<unknown>,
  ): Promise<{ seen: Map<string, number>; repeats: number }> {
    const seen = new Map<string, number>();
    const consumer = client.consumer({ groupId: `rollup-crash-reader-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const conflicts: string[] = [];
    let repeats = 0;
    await consumer.run({
      eachMessage: async ({ message }) => {
        const body = JSON.parse(message.value!.toString()) as {
          tenant: string;
          samples: { labels: { name: string; value: string }[]; t: number; v: number | string }[];
        };
        for (const s of body.samples) {
          const id = sampleId(body.tenant, s.labels, s.t);
          const v = denum(s.v);
          const before = seen.get(id);
          if (before !== undefined) repeats++;
          if (before !== undefined && !Object.is(before, v)) conflicts.push(`${id}: ${before} then ${v}`);
          seen.set(id, v);
        }
      },
    });
    const deadline = Date.now() + 90_000;
    let stopped = false;
    void until.then(() => {
      stopped = true;
    });
    while (seen.size < expected.size && Date.now() < deadline && !stopped)
      await new Promise((r) => setTimeout(r, 200));
    // A little longer, so a repeat written late is read too.
    await new Promise((r) => setTimeout(r, 1500));
    await consumer.disconnect();
    expect(conflicts).toEqual([]);
    return { seen, repeats };
  }

  async function runOnce(
    label: string,
    faults: string[],
  ): Promise<{ seen: Map<string, number>; repeats: number }> {
    const id = `${run}-${label}`;
    const partialsTopic = `rollup-crash-partials-${id}`;
    const derivedTopic = `rollup-crash-derived-${id}`;
    topics.push(partialsTopic, derivedTopic);
    await admin.createTopics({ topics: [{ topic: derivedTopic, numPartitions: 2 }], waitForLeaders: true });
    const stateDir = mkdtempSync(path.join(tmpdir(), 'rollup-crash-'));
    dirs.push(stateDir);
    const settings = {
      brokers,
      name: id,
      rules: RULES,
      samplesTopic,
      partialsTopic,
      derivedTopic,
      stateDir,
      lateMs: LATE_MS,
    };
    for (const fault of faults) {
      const killed = spawnChild(settings, fault);
      const how = await Promise.race([
        killed.exited,
        new Promise((r) => setTimeout(() => r('timeout'), 90_000)),
      ]);
      expect(how, `${fault}: ${killed.stderr()}`).toBe('SIGKILL');
    }
    const last = spawnChild(settings);
    const read = await readDerived(derivedTopic, last.exited);
    last.child.kill('SIGTERM');
    await last.exited;
    expect(read.seen.size, `${label}: ${last.stderr().slice(-3000)}`).toBe(expected.size);
    return read;
  }

  test('every fault point of both stages, killed and restarted, writes what an uninterrupted run writes', async () => {
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: samplesTopic, numPartitions: SOURCES }],
      waitForLeaders: true,
    });
    const producer = client.producer();
    await producer.connect();
    // Small sends, so each partition holds many record batches and the stages see many batches.
    for (let i = 0; i < parts[0]!.length; i += 6) {
      await producer.send({
        topic: samplesTopic,
        acks: -1,
        messages: parts.flatMap((records, partition) =>
          records
            .slice(i, i + 6)
            .map((b) => ({ partition, value: JSON.stringify(b), timestamp: String(b.series[0]!.t[0]) })),
        ),
      });
    }
    await producer.disconnect();
    expect(expected.size).toBeGreaterThan(300);

    const straight = await runOnce('straight', []);
    expect(straight.seen).toEqual(expected);
    expect(straight.repeats).toBe(0);
    const crashed = await runOnce('crashed', [
      'aggregate:mid-batch:4',
      'aggregate:after-output:2',
      'aggregate:after-state:5',
      'combine:mid-batch:3',
      'combine:after-output:2',
      'combine:after-state:4',
    ]);
    expect(crashed.seen).toEqual(expected);
    // A kill after a stage's output and before its snapshot writes that output again: readers see repeats.
    expect(crashed.repeats).toBeGreaterThan(0);
  }, 600_000);
});
