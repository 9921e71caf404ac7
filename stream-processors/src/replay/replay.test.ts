import { randomUUID } from 'node:crypto';
import { announceSkip, realKafka } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { jsonDecoder, MemorySink, MemoryState } from '../../test/support.js';
import { startBlockBuilder } from '../block-builder/builder.js';
import { replay } from './replay.js';

const kafka = realKafka();
if (!kafka.ok) announceSkip('replay on Kafka', kafka.reason);

describe.skipIf(!kafka.ok)('replay on the real Kafka', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  const client = new Kafka({ clientId: 'replay-test', brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  const producer = client.producer();
  const topic = `replay-test-${randomUUID()}`;
  const logger = pino({ level: 'silent' });

  afterAll(async () => {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  test('rebuilds the blocks the builder wrote, same ids and bytes, and its partition state', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await producer.connect();
    // Records stamped with their last sample's time, as the gateway stamps them at ingest.
    const T0 = Math.floor((Date.now() - 3_600_000) / 2000) * 2000;
    const messages: { partition: number; value: string; timestamp?: string }[] = [];
    for (let start = 0; start < 8000; start += 500) {
      for (let i = 0; i < 9; i++) {
        const t = Array.from({ length: 5 }, (_, k) => T0 + start + k * 100);
        messages.push({
          partition: i % 3,
          timestamp: String(t[4]),
          value: JSON.stringify({
            tenant: i < 6 ? 'a' : 'b',
            series: [{ labels: [{ name: '__name__', value: `m${i}` }], t, v: t.map((x) => x - T0) }],
          }),
        });
      }
    }
    messages.push({ partition: 1, value: 'not json' });
    await producer.send({ topic, acks: -1, messages });
    const opts = {
      brokers,
      topic,
      blockDuration: 2000,
      outOfOrderWindow: 1000,
      decoder: jsonDecoder,
      logger,
    };

    const built = new MemorySink();
    const builtState = new MemoryState();
    const builder = await startBlockBuilder({
      ...opts,
      deadLetterTopic: `replay-test-dlq-${randomUUID()}`,
      groupId: `g-${randomUUID()}`,
      sink: built,
      state: builtState,
    });
    // 48 series records per partition, and the bad record last on partition 1.
    const perPartition = 48;
    for (const p of [0, 1, 2]) {
      const deadline = Date.now() + 30_000;
      while (
        (builder.status().find((s) => s.partition === p)?.lastRead ?? -1) <
        (p === 1 ? perPartition : perPartition - 1)
      ) {
        if (Date.now() > deadline) throw new Error(`builder did not read partition ${p}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // A record counts as read before the cut of its batch is uploaded and committed: wait until
    // the builder has been quiet (no new block, no new commit) for a while before stopping it.
    const snapshot = () => `${built.blocks.size} ${JSON.stringify(builder.status())}`;
    for (let last = snapshot(), quietSince = Date.now(), deadline = Date.now() + 30_000; ; ) {
      await new Promise((r) => setTimeout(r, 100));
      const now = snapshot();
      if (now !== last) [last, quietSince] = [now, Date.now()];
      else if (Date.now() - quietSince >= 1500 || Date.now() > deadline) break;
    }
    await builder.stop();
    expect(built.blocks.size).toBeGreaterThan(0);

    const rebuilt = new MemorySink();
    const state = new MemoryState();
    const progress: number[] = [];
    const result = await replay({
      ...opts,
      sink: rebuilt,
      state,
      onProgress: (p) => progress.push(p.records),
    });
    expect(result.records).toBe(messages.length);
    expect(result.totalRecords).toBe(messages.length);
    expect(progress.at(-1)).toBe(messages.length);
    expect([...rebuilt.blocks.keys()].sort()).toEqual([...built.blocks.keys()].sort());
    for (const [id, { json }] of rebuilt.blocks) expect(json).toBe(built.blocks.get(id)!.json);
    const withoutLetters = (m: MemoryState) =>
      new Map([...m.states].map(([k, v]) => [k, { boundary: v.boundary, nextOffset: v.nextOffset }]));
    expect(withoutLetters(state)).toEqual(withoutLetters(builtState));
    // Replay counts the record the builder dead-lettered, and claims no dead letters of its own.
    expect(result.unprocessable).toEqual({ bad_record: 1 });
    for (const s of state.states.values()) expect(s.handledThrough).toBe(-1);

    // Replaying again writes the same objects (the sink refuses other bytes) and keeps the state.
    const again = await replay({ ...opts, sink: rebuilt, state });
    expect(again.blocks).toBe(result.blocks);
    expect(withoutLetters(state)).toEqual(withoutLetters(builtState));

    // An offset window replays only its records.
    const part = await replay({ ...opts, sink: new MemorySink(), from: { offset: 10 }, to: { offset: 20 } });
    expect(part.records).toBe(30);
  });
});
