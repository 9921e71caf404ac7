import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnBroker } from './broker/spawn.js';

/**
 * Acknowledged means durable: producers with acks=all load the broker from
 * several connections, the broker process is killed with SIGKILL in the
 * middle, and after a restart on the same directory every acknowledged
 * record must be there, in the order it was acknowledged per partition.
 */
describe('broker crash with SIGKILL during produce load', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'broker-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged record', async () => {
    const first = await spawnBroker(dir);
    const brokers = [`127.0.0.1:${first.port}`];
    const kafka = new Kafka({
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      clientId: 'crash',
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'crash', numPartitions: 3 }] });
    await admin.disconnect();

    const acked: string[][] = [[], [], []];
    let stop = false;
    const writer = async (id: number) => {
      const producer = kafka.producer({ retry: { retries: 0 } });
      await producer.connect();
      for (let n = 0; !stop; n++) {
        const partition = (id + n) % 3;
        const values = Array.from({ length: 20 }, (_, i) => `w${id}-${n}-${i}`);
        try {
          await producer.send({
            topic: 'crash',
            acks: -1,
            messages: values.map((value) => ({ value, partition })),
          });
          acked[partition]?.push(...values);
        } catch {
          break; // the broker is gone: this batch was never acknowledged
        }
      }
      await producer.disconnect().catch(() => {});
    };
    const writers = [0, 1, 2, 3].map((id) => writer(id));
    await new Promise((r) => setTimeout(r, 2500));
    first.child.kill('SIGKILL');
    await first.exited;
    stop = true;
    await Promise.all(writers);
    const total = acked.reduce((n, a) => n + a.length, 0);
    expect(total).toBeGreaterThan(1000);

    const second = await spawnBroker(dir, first.port);
    try {
      const consumer = kafka.consumer({ groupId: 'crash-check' });
      await consumer.connect();
      await consumer.subscribe({ topic: 'crash', fromBeginning: true });
      const found: string[][] = [[], [], []];
      const offsets = await (async () => {
        const a = kafka.admin();
        await a.connect();
        const o = await a.fetchTopicOffsets('crash');
        await a.disconnect();
        return o;
      })();
      const want = offsets.reduce((n, p) => n + Number(p.high), 0);
      expect(want).toBeGreaterThanOrEqual(total);
      let got = 0;
      const seen = new Set<string>();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`read ${got} of ${want}`)), 60_000);
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            found[partition]?.push(String(message.value));
            seen.add(`${partition}:${message.offset}`);
            got = seen.size;
            if (got === want) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      await consumer.disconnect();
      for (let p = 0; p < 3; p++) {
        const log = found[p] as string[];
        const ack = acked[p] as string[];
        // Every acknowledged record is there, and each writer's records keep their order.
        // First occurrence counts: a consumer rebalance may deliver a record twice.
        const at = new Map<string, number>();
        log.forEach((v, i) => {
          if (!at.has(v)) at.set(v, i);
        });
        expect(ack.filter((v) => !at.has(v)).length, `partition ${p} lost records`).toBe(0);
        for (let id = 0; id < 4; id++) {
          const mine = ack.filter((v) => v.startsWith(`w${id}-`)).map((v) => at.get(v) as number);
          for (let i = 1; i < mine.length; i++) expect(mine[i]).toBeGreaterThan(mine[i - 1] as number);
        }
      }
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 120_000);
});
