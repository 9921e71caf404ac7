import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { announceSkip } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../src/index.js';
import { type LogConfig, PartitionLog } from '../../src/log/partition-log.js';
import { checkBatch } from '../../src/log/record-batch.js';
import { buildBatch } from './raw-client.js';
import { readBack } from './read-back.js';

// A real filesystem that fills up: a tmpfs of a few MB under the broker's data directory.
// Mounting needs root (CAP_SYS_ADMIN); elsewhere the suite is skipped with the reason.

const SUITE = 'broker on a full disk';

function mountTmpfs(megabytes: number): { dir: string } | { reason: string } {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'broker-disk-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    return { reason: `cannot mount a tmpfs (needs root): ${(err as Error).message.split('\n')[0]}` };
  }
}

function unmount(dir: string): void {
  execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Fills the filesystem of `dir` with one file, leaving about `leave` bytes free. */
function fill(dir: string, leave: number): string {
  const file = path.join(dir, 'filler');
  const free = fs.statfsSync(dir).bavail * fs.statfsSync(dir).bsize;
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (let left = free - leave; left > 0; left -= chunk.length)
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, left));
  } catch {
    // Full already.
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

const probe = mountTmpfs(1);
if ('dir' in probe) unmount(probe.dir);
else announceSkip(SUITE, probe.reason);

describe.skipIf(!('dir' in probe))(SUITE, () => {
  const BIG: LogConfig = { segmentBytes: 1 << 30, segmentMs: 1e12, retentionMs: -1, retentionBytes: -1 };

  it('refuses appends while full, then cuts back the failed tail and takes the refused batches again', async () => {
    const mounted = mountTmpfs(2);
    if (!('dir' in mounted)) throw new Error(mounted.reason);
    try {
      // Room to give back later without touching the log.
      const headroom = path.join(mounted.dir, 'headroom');
      fs.writeFileSync(headroom, Buffer.alloc(512 * 1024, 1));
      let now = 1000;
      const log = PartitionLog.open(path.join(mounted.dir, 'p0'), BIG, () => now);
      const pid = 7n;
      // As the broker does: check the sequence, append, record it at once (before the write completes).
      const append = (seq: number) => {
        const buf = buildBatch([randomBytes(12 * 1024).toString('base64')], {
          timestamp: 1000 + seq,
          producerId: pid,
          epoch: 0,
          baseSequence: seq,
        });
        const h = checkBatch(buf, 0);
        if (typeof h === 'string') throw new Error(h);
        log.ensureWritable();
        const check = log.producers.check(pid, 0, seq, 1);
        if (check.kind !== 'append') throw new Error(`sequence ${seq}: ${check.kind}`);
        const r = log.append(buf, [{ at: 0, header: h }], true);
        log.producers.record(pid, 0, seq, 1, r.baseOffset);
        return r.written;
      };
      let acked = 0;
      let failure: unknown;
      for (let seq = 0; seq < 1000 && failure === undefined; seq++) {
        try {
          await append(seq);
          acked++;
        } catch (err) {
          failure = err;
        }
      }
      expect((failure as { code?: string }).code).toBe('STORAGE_IO');
      expect(acked).toBeGreaterThan(10);
      const refused = acked;
      // Refused at once while failed, and the refused batch is still in the producer state,
      // where a retry would be answered as a duplicate of an offset that never reached the file.
      expect(() => log.ensureWritable()).toThrow(/failed a write/);
      expect(log.producers.check(pid, 0, refused, 1).kind).toBe('duplicate');
      fs.rmSync(headroom);
      // Within the backoff nothing is tried; after it, the log recovers by itself.
      expect(() => log.ensureWritable()).toThrow(/failed a write/);
      now += 150;
      log.ensureWritable();
      expect(log.producers.check(pid, 0, refused, 1).kind).toBe('append');
      for (let seq = refused; seq < refused + 5; seq++) await append(seq);
      const read = await readBack(log);
      expect(read.map(([base]) => base)).toEqual(Array.from({ length: acked + 5 }, (_, i) => i));
      log.close();
      // Nothing of the failed writes is left in the file: a reopened log has the same batches.
      const reopened = PartitionLog.open(path.join(mounted.dir, 'p0'), BIG, () => now);
      expect(await readBack(reopened)).toEqual(read);
      reopened.close();
    } finally {
      unmount(mounted.dir);
    }
  });

  describe('through kafkajs', () => {
    let mounted: { dir: string };
    let broker: RunningBroker;
    beforeAll(async () => {
      const m = mountTmpfs(8);
      if (!('dir' in m)) throw new Error(m.reason);
      mounted = m;
      broker = await startBroker({
        dataDir: path.join(mounted.dir, 'log'),
        logger: pino({ level: 'silent' }),
        metricsPort: 0,
      });
    });
    afterAll(async () => {
      await broker?.close();
      if (mounted !== undefined) unmount(mounted.dir);
    });

    it('answers KAFKA_STORAGE_ERROR while full and takes writes again within seconds once space returns, losing and duplicating nothing acknowledged', async () => {
      const kafka = new Kafka({
        clientId: 'disk-full',
        brokers: [`127.0.0.1:${broker.port}`],
        logLevel: logLevel.NOTHING,
        retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
      });
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const topic = 'disk-full';
      const acked: number[] = [];
      const errors: string[] = [];
      let next = 0;
      const send = async (): Promise<boolean> => {
        const seq = next++;
        try {
          await producer.send({
            topic,
            acks: -1,
            messages: [{ key: String(seq), value: `${seq}:${randomBytes(8 * 1024).toString('base64')}` }],
          });
          acked.push(seq);
          return true;
        } catch (err) {
          errors.push((err as Error).message);
          return false;
        }
      };
      for (let i = 0; i < 20; i++) expect(await send()).toBe(true);
      const filler = fill(mounted.dir, 32 * 1024);
      let refusedAt = -1;
      for (let i = 0; i < 200 && refusedAt < 0; i++) if (!(await send())) refusedAt = next - 1;
      expect(refusedAt).toBeGreaterThan(0);
      expect(errors.join('\n')).toMatch(/storage|disk/i);
      // Still full: still refused.
      expect(await send()).toBe(false);
      fs.rmSync(filler);
      const freedAt = Date.now();
      let recovered = false;
      while (!recovered && Date.now() - freedAt < 10_000) recovered = await send();
      expect(recovered).toBe(true);
      expect(Date.now() - freedAt).toBeLessThan(5000);
      for (let i = 0; i < 20; i++) expect(await send()).toBe(true);
      await producer.disconnect();
      const metrics = await (await fetch(`http://127.0.0.1:${broker.metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/promstream_broker_storage_refusals_total [1-9]/);

      // Read everything back: every acknowledged record once, in the order it was acknowledged.
      const consumer = kafka.consumer({ groupId: 'disk-full-check' });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const seen: number[] = [];
      const last = acked[acked.length - 1]!;
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            const seq = Number(String(message.value).split(':')[0]);
            seen.push(seq);
            if (seq === last) resolve();
          },
        });
      });
      await consumer.disconnect();
      const ackedSet = new Set(acked);
      expect(seen.filter((s) => ackedSet.has(s))).toEqual(acked);
      expect(new Set(seen).size).toBe(seen.length);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    }, 60_000);
  });
});
