import { randomUUID } from 'node:crypto';
import { announceSkip, realKafka } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { jsonDecoder, MemorySink, MemoryState } from '../../test/support.js';
import { listDeadLetters } from '../deadletter/tool.js';
import { type BlockBuilder, startBlockBuilder } from './builder.js';

// The builder loop on a real Kafka, with the record format and the block
// format replaced by JSON and memory: this suite checks the loop's offsets,
// cuts and restarts, not the codecs (the end-to-end suites do those).

const kafka = realKafka();
if (!kafka.ok) announceSkip('block builder loop on Kafka', kafka.reason);

describe.skipIf(!kafka.ok)('block builder loop on the real Kafka', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  const client = new Kafka({ clientId: 'bb-test', brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  const producer = client.producer();
  const topic = `bb-test-${randomUUID()}`;
  const logger = pino({ level: 'silent' });
  const running: BlockBuilder[] = [];

  afterAll(async () => {
    for (const b of running) await b.stop().catch(() => {});
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic, deadLetterTopic] }).catch(() => {});
    await admin.disconnect();
  });

  // Series s0..s5, one sample every 100 ms from T0 to T0 + 5.9 s, in records
  // of ten samples stamped with their last sample's time (as the gateway
  // stamps records at ingest); a last record at T0 + 10 s moves the
  // partition clock past every range before T0 + 9 s.
  const T0 = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
  const deadLetterTopic = `bb-test-dlq-${randomUUID()}`;
  const series = Array.from({ length: 6 }, (_, i) => [
    { name: '__name__', value: 'm' },
    { name: 's', value: `s${i}` },
  ]);
  const expected = new Map<string, number[]>();

  test('cuts aligned blocks holding every sample exactly once, and commits after them', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await producer.connect();
    const messages: { partition: number; value: string; timestamp: string }[] = [];
    for (let start = 0; start < 6000; start += 1000) {
      for (let i = 0; i < series.length; i++) {
        const labels = series[i]!;
        const key = `t|__name__=m,s=s${i}`;
        const t = Array.from({ length: 10 }, (_, k) => T0 + start + k * 100);
        expected.set(key, [...(expected.get(key) ?? []), ...t]);
        messages.push({
          partition: i % 2,
          timestamp: String(t[9]),
          value: JSON.stringify({ tenant: 't', series: [{ labels, t, v: t.map((x) => (x - T0) / 100) }] }),
        });
      }
    }
    for (const partition of [0, 1]) {
      messages.push({
        partition,
        timestamp: String(T0 + 10_000),
        value: JSON.stringify({
          tenant: 't',
          series: [{ labels: [{ name: '__name__', value: 'tick' }], t: [T0 + 10_000], v: [1] }],
        }),
      });
    }
    await producer.send({ topic, acks: -1, messages });

    const sink = new MemorySink();
    const state = new MemoryState();
    const groupId = `bb-${randomUUID()}`;
    const builder = await startBlockBuilder({
      brokers,
      topic,
      groupId,
      blockDuration: 1000,
      outOfOrderWindow: 1000,
      decoder: jsonDecoder,
      sink,
      state,
      logger,
      deadLetterTopic,
    });
    running.push(builder);
    // 36 series records and one tick per partition: 19 records each.
    await builder.waitForCommit(0, 18, 30_000);
    await builder.waitForCommit(1, 18, 30_000);
    await builder.stop();

    const got = sink.samples();
    for (const [key, times] of expected) expect(got.get(key), key).toEqual(times);
    // Six one-second ranges per partition, one block each; the tick stays in the head.
    expect(sink.blocks.size).toBe(12);
    expect(state.states.get(`${topic}/0`)).toMatchObject({
      boundary: T0 + 9000,
      nextOffset: 18,
      handledThrough: 18,
      clock: T0 + 5900,
      backfillCuts: [],
      rules: { blockDuration: 1000, outOfOrderWindow: 1000 },
    });
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(offsets[0]!.partitions.map((p) => p.offset).sort()).toEqual(['18', '18']);

    // A builder from scratch (new group, empty state) rebuilds the same ids and bytes.
    const again = new MemorySink();
    const second = await startBlockBuilder({
      brokers,
      topic,
      groupId: `bb-${randomUUID()}`,
      blockDuration: 1000,
      outOfOrderWindow: 1000,
      decoder: jsonDecoder,
      sink: again,
      state: new MemoryState(),
      logger,
      deadLetterTopic,
    });
    running.push(second);
    await second.waitForCommit(0, 18, 30_000);
    await second.waitForCommit(1, 18, 30_000);
    await second.stop();
    expect([...again.blocks.keys()].sort()).toEqual([...sink.blocks.keys()].sort());
    for (const [id, { json }] of again.blocks) expect(json).toBe(sink.blocks.get(id)!.json);
  });

  test('a restart from a stale commit rewrites identical blocks and counts late samples', async () => {
    const sink = new MemorySink();
    const state = new MemoryState();
    const groupId = `bb-${randomUUID()}`;
    const opts = {
      brokers,
      topic,
      groupId,
      blockDuration: 1000,
      outOfOrderWindow: 1000,
      decoder: jsonDecoder,
      logger,
      deadLetterTopic,
    };
    const first = await startBlockBuilder({ ...opts, sink, state });
    running.push(first);
    await first.waitForCommit(0, 18, 30_000);
    await first.stop();
    // The state forgets the cuts, as after a crash between upload and state write.
    state.states.delete(`${topic}/0`);
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '0' }] });
    const writesBefore = sink.writes;
    const second = await startBlockBuilder({ ...opts, sink, state });
    running.push(second);
    await second.waitForCommit(0, 18, 30_000);
    await producer.send({
      topic,
      acks: -1,
      messages: [
        {
          partition: 0,
          timestamp: String(T0 + 100),
          value: JSON.stringify({ tenant: 't', series: [{ labels: series[0], t: [T0 + 100], v: [7] }] }),
        },
      ],
    });
    // The late record is dead-lettered (and counted) at the end of its batch.
    let metrics = '';
    for (
      const deadline = Date.now() + 30_000;
      !/reason="too_old"} 1/.test(metrics) && Date.now() < deadline;
    ) {
      await new Promise((r) => setTimeout(r, 100));
      metrics = await second.registry.getSingleMetricAsString(
        'promstream_block_builder_samples_dropped_total',
      );
    }
    await second.stop();
    const letters = await listDeadLetters({ brokers, topic: deadLetterTopic });
    expect(letters.map((l) => [l.info.partition, l.info.offset, l.info.reason, l.info.samples])).toEqual([
      [0, 19, 'sample_too_old', 1],
    ]);
    // Six blocks of partition 0 written again, byte for byte (the sink throws otherwise).
    expect(sink.writes - writesBefore).toBeGreaterThanOrEqual(6);
    expect(sink.blocks.size).toBeGreaterThanOrEqual(6);
    expect(metrics).toMatch(/reason="too_old"} 1/);
  });
});
