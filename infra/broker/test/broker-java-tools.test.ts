import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { announceSkip, kafkaTools } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../src/index.js';

/*
 * Apache Kafka's own tools from the 4.3.1 release (the jars CI fetches with
 * infra/scripts/kafka.sh) against the embedded broker: they negotiate the
 * newest versions both sides know, flexible ones included, so this is the
 * broker's protocol coverage as real Java clients exercise it.
 */
const tools = kafkaTools();
if (!tools.ok) announceSkip('broker with Kafka 4.3.1 tools', tools.reason);

const TOPICS = 'org.apache.kafka.tools.TopicCommand';
const PRODUCER = 'org.apache.kafka.tools.ConsoleProducer';
const CONSUMER = 'org.apache.kafka.tools.consumer.ConsoleConsumer';
const GROUPS = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand';

const fresh = (what: string) => `java-${what}-${randomUUID().slice(0, 8)}`;

/** The data rows of a kafka-consumer-groups table: whitespace-separated cells, header dropped. */
function rows(table: string, first: string): string[][] {
  return table
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cells) => cells[0] === first);
}

describe.skipIf(!tools.ok)('embedded broker with Apache Kafka 4.3.1 tools', () => {
  let dir: string;
  let broker: RunningBroker;
  let bootstrap: string;
  const run = async (mainClass: string, args: string[], input?: string) => {
    if (!tools.ok) throw new Error('unreachable: the suite is skipped without the tools');
    const res = await tools.backend.run(mainClass, ['--bootstrap-server', bootstrap, ...args], {
      input,
      timeoutMs: 90_000,
    });
    return { ...res, all: `${res.stdout}\n${res.stderr}` };
  };
  const topic = fresh('t');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'broker-java-'));
    broker = await startBroker({ dataDir: dir, logger: pino({ level: 'silent' }), metricsPort: 0 });
    bootstrap = `127.0.0.1:${broker.port}`;
  });
  afterAll(async () => {
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kafka-topics creates, lists and describes a topic', async () => {
    const created = await run(TOPICS, [
      '--create',
      '--topic',
      topic,
      '--partitions',
      '3',
      '--config',
      'retention.ms=123456789',
    ]);
    expect(created.all).toContain(`Created topic ${topic}.`);
    expect(created.code).toBe(0);
    expect(broker.broker.topics.topics.get(topic)?.partitions.length).toBe(3);

    const listed = await run(TOPICS, ['--list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')).toContain(topic);

    const described = await run(TOPICS, ['--describe', '--topic', topic]);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(new RegExp(`Topic: ${topic}\\s+TopicId: \\S+\\s+PartitionCount: 3`));
    expect(described.stdout).toContain('retention.ms=123456789');
    for (const p of [0, 1, 2]) expect(described.stdout).toMatch(new RegExp(`Partition: ${p}\\s+Leader: 0`));
  });

  it('kafka-topics reports a refused create with the broker’s reason', async () => {
    const name = fresh('rf');
    const res = await run(TOPICS, ['--create', '--topic', name, '--replication-factor', '3']);
    expect(res.code).not.toBe(0);
    expect(res.all).toMatch(/replication factor 3/i);
    expect(broker.broker.topics.topics.has(name)).toBe(false);
  });

  it('the console producer writes what the console consumer and kafkajs read back', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `k${i % 4}:value-${i}`);
    const produced = await run(
      PRODUCER,
      ['--topic', topic, '--property', 'parse.key=true', '--property', 'key.separator=:'],
      `${lines.join('\n')}\n`,
    );
    expect(produced.code, produced.stderr).toBe(0);

    const consumed = await run(CONSUMER, [
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      String(lines.length),
      '--group',
      'java-tools-group',
      '--property',
      'print.key=true',
      '--property',
      'key.separator=:',
      '--timeout-ms',
      '60000',
    ]);
    expect(consumed.code, consumed.stderr).toBe(0);
    const got = consumed.stdout.split('\n').filter((l) => l.startsWith('k'));
    expect([...got].sort()).toEqual([...lines].sort());
    // Per key (one partition each) the order is the producer's.
    for (const key of ['k0', 'k1', 'k2', 'k3'])
      expect(got.filter((l) => l.startsWith(`${key}:`))).toEqual(
        lines.filter((l) => l.startsWith(`${key}:`)),
      );

    const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, clientId: 'java-tools' });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(lines.length);
  });

  it('kafka-consumer-groups lists the group and describes its offsets and lag', async () => {
    const listed = await run(GROUPS, ['--list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')).toContain('java-tools-group');

    const described = await run(GROUPS, ['--describe', '--group', 'java-tools-group']);
    expect(described.code, described.all).toBe(0);
    const table = rows(described.stdout, 'java-tools-group');
    expect(table.map((r) => r[2]).sort()).toEqual(['0', '1', '2']);
    let total = 0;
    for (const r of table) {
      expect(r[1]).toBe(topic);
      // CURRENT-OFFSET equals LOG-END-OFFSET: the console consumer committed all it read.
      expect(r[3]).toBe(r[4]);
      expect(r[5]).toBe('0');
      total += Number(r[4]);
    }
    expect(total).toBe(20);
  });

  it('kafka-consumer-groups describes a live group’s state and members', async () => {
    const groupId = fresh('live');
    const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, clientId: 'live-member' });
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
    });
    await consumer.run({ eachMessage: async () => {} });
    try {
      const deadline = Date.now() + 30_000;
      while (!joined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(joined).toBe(true);

      const state = await run(GROUPS, ['--describe', '--group', groupId, '--state']);
      expect(state.code, state.all).toBe(0);
      const [row] = rows(state.stdout, groupId);
      expect(row).toBeDefined();
      expect(row).toContain('Stable');
      expect(row?.at(-1)).toBe('1'); // #MEMBERS

      const members = await run(GROUPS, ['--describe', '--group', groupId, '--members']);
      expect(members.code, members.all).toBe(0);
      const [member] = rows(members.stdout, groupId);
      expect(member).toContain('live-member');
      expect(member?.at(-1)).toBe('3'); // #PARTITIONS: the only member holds all three
    } finally {
      await consumer.disconnect();
    }
  });

  it('kafka-topics adds partitions to a topic and deletes it', async () => {
    const name = fresh('alter');
    expect((await run(TOPICS, ['--create', '--topic', name, '--partitions', '1'])).code).toBe(0);
    const altered = await run(TOPICS, ['--alter', '--topic', name, '--partitions', '4']);
    expect(altered.code, altered.all).toBe(0);
    expect(broker.broker.topics.topics.get(name)?.partitions.length).toBe(4);
    const deleted = await run(TOPICS, ['--delete', '--topic', name]);
    expect(deleted.code, deleted.all).toBe(0);
    expect(broker.broker.topics.topics.has(name)).toBe(false);
  });

  it('kafka-consumer-groups resets a group to the earliest offsets', async () => {
    const reset = await run(GROUPS, [
      '--reset-offsets',
      '--to-earliest',
      '--group',
      'java-tools-group',
      '--topic',
      topic,
      '--execute',
    ]);
    expect(reset.code, reset.all).toBe(0);
    const described = await run(GROUPS, ['--describe', '--group', 'java-tools-group']);
    const table = rows(described.stdout, 'java-tools-group');
    expect(table).toHaveLength(3);
    // Back at offset 0 everywhere: the lag is every record again.
    expect(table.map((r) => r[3])).toEqual(['0', '0', '0']);
    expect(table.reduce((sum, r) => sum + Number(r[5]), 0)).toBe(20);
  });

  it('kafka-consumer-groups deletes a group without members', async () => {
    const deleted = await run(GROUPS, ['--delete', '--group', 'java-tools-group']);
    expect(deleted.code, deleted.all).toBe(0);
    expect(deleted.stdout).toMatch(
      /Deletion of requested consumer groups \('java-tools-group'\) was successful/,
    );
    const listed = await run(GROUPS, ['--list']);
    expect(listed.stdout.split('\n')).not.toContain('java-tools-group');
  });

  it('kafka-consumer-groups says a group that never existed does not', async () => {
    const res = await run(GROUPS, ['--describe', '--group', fresh('none')]);
    expect(res.all).toMatch(/does not exist/);
  });

  it('the tools spoke the flexible versions (the newest both sides know)', async () => {
    const res = await fetch(`http://127.0.0.1:${broker.metricsPort}/metrics`);
    const text = await res.text();
    const served = (api: string) =>
      [
        ...text.matchAll(
          new RegExp(`promstream_broker_requests_total\\{api="${api}",version="(\\d+)"\\}`, 'g'),
        ),
      ].map((m) => Number(m[1]));
    // The newest version of each API the broker serves: Kafka 4.3's clients know newer ones of every one.
    const newest: Record<string, number> = {
      ApiVersions: 4,
      Metadata: 13,
      CreateTopics: 7,
      DescribeConfigs: 4,
      FindCoordinator: 4,
      OffsetFetch: 8,
      ListGroups: 5,
      DescribeGroups: 5,
      ListOffsets: 6,
      JoinGroup: 9,
      SyncGroup: 5,
      LeaveGroup: 5,
      OffsetCommit: 9,
      InitProducerId: 4,
      DeleteGroups: 2,
      Produce: 11,
      Fetch: 12,
    };
    for (const [api, version] of Object.entries(newest)) expect(served(api), api).toContain(version);
  });
});
