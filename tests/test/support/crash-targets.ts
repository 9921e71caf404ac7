import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { listAll, objectStoreFromUrl, PrefixedObjectStore, S3ObjectStore } from '@promstream/storage';
import type { S3Backend } from '@promstream/testkit';
import { afterAll, describe, expect, test } from 'vitest';
import { type CrashTarget, runCrashScenario } from './crash-scenario.js';

/** Multipart uploads from 5 MiB in 5 MiB parts (the least S3 accepts), so the wide block's chunk file has two. */
const MULTIPART = 5 * 1024 * 1024;

/** A target, and how to take it down again. */
export interface StartedTarget {
  target: CrashTarget;
  stop(): Promise<void>;
}

/** A fresh directory as the store. */
export function fsTarget(brokers: string[]): StartedTarget {
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
    stop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A fresh prefix of the S3 server's bucket as the store, with multipart uploads from 5 MiB. */
export function s3Target(brokers: string[], b: S3Backend): StartedTarget {
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
  const client = new S3Client({
    endpoint: b.endpoint,
    region: b.region,
    forcePathStyle: true,
    credentials: { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey },
  });
  /** Parts stored by the unfinished multipart uploads of a key. */
  const pendingParts = async (key: string): Promise<number> => {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: b.bucket, Prefix: key }));
    let parts = 0;
    for (const u of uploads.Uploads ?? []) {
      if (u.Key !== key) continue;
      const listed = await client.send(
        new ListPartsCommand({ Bucket: b.bucket, Key: key, UploadId: u.UploadId }),
      );
      parts += listed.Parts?.length ?? 0;
    }
    return parts;
  };
  return {
    target: {
      brokers,
      storeUrl: `s3://${b.bucket}/${prefix}?${query}&multipart-threshold=${MULTIPART}&part-size=${MULTIPART}`,
      store,
      bucketPrefix: `${prefix}/`,
      env,
      multipart: true,
      pendingParts,
    },
    stop: async () => {
      for (const o of await listAll(store, '', { recursive: true })) await store.delete(o.key);
      // The killed builder's unfinished upload stays on the server until aborted.
      const uploads = await client.send(
        new ListMultipartUploadsCommand({ Bucket: b.bucket, Prefix: `${prefix}/` }),
      );
      for (const u of uploads.Uploads ?? [])
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: b.bucket, Key: u.Key, UploadId: u.UploadId }),
        );
      bucket.destroy();
      client.destroy();
    },
  };
}

/** The crash suite on one log and store: one test running the whole scenario. */
export function crashSuite(name: string, enabled: boolean, start: () => Promise<StartedTarget>): void {
  describe.skipIf(!enabled)(`SIGKILL the block builder at its fault points on ${name}`, () => {
    let stop: () => Promise<void> = async () => {};
    afterAll(async () => stop());

    test('every kill lands where aimed, after work, and every sample is in the blocks once with its value', async () => {
      const started = await start();
      stop = started.stop;
      const result = await runCrashScenario(started.target);
      expect(result.kills.map((k) => k.point)).toEqual([
        'after-upload',
        'after-state',
        started.target.multipart ? 'mid-multipart' : 'mid-block',
        'rebalance',
        'after-deadletter',
      ]);
      // Every kill ended a different process.
      expect(new Set(result.kills.map((k) => k.pid)).size).toBe(result.kills.length);
      expect(result.samples).toBeGreaterThan(0);
    }, 400_000);
  });
}
