import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FAULT_ENV } from '@promstream/infra';
import { listAll, objectStoreFromUrl, PrefixedObjectStore, S3ObjectStore } from '@promstream/storage';
import { announceSkip, realKafka, realS3, repoRoot, startEmbeddedBroker } from '@promstream/testkit';
import { afterAll, describe, expect, test } from 'vitest';
import { type CrashTarget, runCrashScenario } from './support/crash-scenario.js';

// The block builder runs as `promstream block-builder` in child processes,
// each armed with one fault point (PROMSTREAM_FAULT) where exactly-once can
// break, and is killed there with SIGKILL while the load keeps coming: after
// a block's upload and before its state, after the state and before the
// commit, in the middle of a block's upload (a multipart upload on S3), while
// the group rebalances, and after a dead letter and before its commit. Every
// written sample must then be in the blocks exactly once, with its value.

const cli = path.join(repoRoot, 'bin', 'promstream.js');
const built = existsSync(path.join(repoRoot, 'infra', 'dist', 'cli', 'main.js'));
const kafka = realKafka();
const s3 = realS3();
if (!built) announceSkip('block builder crash test', 'infra is not built (npm test builds it first)');
else if (!kafka.ok) announceSkip('block builder crash test on Apache Kafka', kafka.reason);
if (built && !s3.ok) announceSkip('block builder crash test on the S3 server', s3.reason);

/** Multipart uploads from 5 MiB in 5 MiB parts (the least S3 accepts), so the wide block's chunk file has two. */
const MULTIPART = 5 * 1024 * 1024;

describe.skipIf(!built)('fault points of promstream block-builder', () => {
  test('a fault point that is not one is refused at start, naming the points', () => {
    const out = spawnSync(process.execPath, [cli, 'block-builder', '--brokers', '127.0.0.1:1'], {
      env: { ...process.env, [FAULT_ENV]: 'after-lunch:1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('after-upload, after-state, mid-block, mid-multipart, rebalance, after-deadletter');
  });
});

function fsTarget(brokers: string[]): { target: CrashTarget; cleanup(): Promise<void> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'promstream-crash-'));
  return {
    target: {
      brokers,
      storeUrl: `file://${dir}`,
      store: objectStoreFromUrl(`file://${dir}`),
      bucketPrefix: '',
      env: {},
      multipart: false,
    },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function s3Target(brokers: string[]): { target: CrashTarget; cleanup(): Promise<void> } {
  if (!s3.ok) throw new Error(s3.reason);
  const b = s3.backend;
  const prefix = `crash-bb-${randomUUID()}`;
  const env = { S3_ACCESS_KEY_ID: b.accessKeyId, S3_SECRET_ACCESS_KEY: b.secretAccessKey };
  const query = `endpoint=${encodeURIComponent(b.endpoint)}&region=${b.region}`;
  const bucket = new S3ObjectStore({
    bucket: b.bucket,
    endpoint: b.endpoint,
    region: b.region,
    accessKeyId: b.accessKeyId,
    secretAccessKey: b.secretAccessKey,
    forcePathStyle: true,
  });
  const store = new PrefixedObjectStore(bucket, prefix);
  return {
    target: {
      brokers,
      storeUrl: `s3://${b.bucket}/${prefix}?${query}&multipart-threshold=${MULTIPART}&part-size=${MULTIPART}`,
      store,
      bucketPrefix: `${prefix}/`,
      env,
      multipart: true,
    },
    cleanup: async () => {
      for (const o of await listAll(store, '', { recursive: true })) await store.delete(o.key);
      bucket.destroy();
    },
  };
}

interface Case {
  name: string;
  enabled: boolean;
  start(): Promise<{ target: CrashTarget; stop(): Promise<void> }>;
}

const cases: Case[] = [
  {
    name: 'Apache Kafka and a filesystem store',
    enabled: built && kafka.ok,
    start: async () => {
      const t = fsTarget(kafka.ok ? kafka.backend.brokers : []);
      return { target: t.target, stop: t.cleanup };
    },
  },
  {
    name: 'Apache Kafka and the S3 server (multipart uploads)',
    enabled: built && kafka.ok && s3.ok,
    start: async () => {
      const t = s3Target(kafka.ok ? kafka.backend.brokers : []);
      return { target: t.target, stop: t.cleanup };
    },
  },
  {
    name: 'the embedded broker and a filesystem store',
    enabled: built,
    start: async () => {
      const broker = await startEmbeddedBroker();
      if (!broker.ok) throw new Error(broker.reason);
      const t = fsTarget(broker.backend.brokers);
      return {
        target: t.target,
        stop: async () => {
          await t.cleanup();
          await broker.backend.stop();
        },
      };
    },
  },
];

for (const c of cases) {
  describe.skipIf(!c.enabled)(`SIGKILL the block builder at its fault points on ${c.name}`, () => {
    let stop: () => Promise<void> = async () => {};
    afterAll(async () => stop());

    test('every kill lands where aimed, after work, and every sample is in the blocks once with its value', async () => {
      const started = await c.start();
      stop = started.stop;
      const result = await runCrashScenario(started.target);
      expect(result.kills.map((k) => k.point)).toEqual([
        'after-upload',
        'after-state',
        started.target.multipart ? 'mid-multipart' : 'mid-block',
        'rebalance',
        'after-deadletter',
      ]);
      // Every killed process is a different one.
      expect(new Set(result.kills.map((k) => k.pid)).size).toBe(result.kills.length);
      expect(result.samples).toBeGreaterThan(0);
    }, 240_000);
  });
}
