import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, fresh } from './broker/backends.js';
import {
  commitOffset,
  deleteGroups,
  fetchOffsets,
  heartbeat,
  joinGroup,
  leaveGroup,
  syncGroup,
} from './broker/flexible-group-requests.js';
import { API, createTopic, flex, structs } from './broker/flexible-requests.js';
import { RawClient } from './broker/raw-client.js';

/*
 * The flexible versions of the consumer-group and producer-id APIs, sent
 * byte for byte against the embedded broker and Apache Kafka alike.
 */

describe.each(backends)('broker contract, flexible group versions: $name', (backend) => {
  let brokers: string[];
  let stop: () => Promise<void>;
  let kafka: Kafka;
  let c: RawClient;

  beforeAll(async () => {
    const b = await backend.start();
    brokers = b.brokers;
    stop = () => b.stop();
    kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'contract-flexible' });
    c = await RawClient.connect(brokers[0] as string);
  });
  afterAll(async () => {
    c?.close();
    await stop();
  });

  it('finds the coordinators of several groups at once (FindCoordinator v4)', async () => {
    const keys = [fresh('g1'), fresh('g2')];
    const r = await c.request(
      API.FindCoordinator,
      4,
      (w) =>
        w
          .int8(0)
          .array(keys, (w, k) => w.string(k, flex), flex)
          .tags(flex),
      flex,
    );
    r.int32();
    const found = structs(r, (r) => {
      const res = {
        key: r.string(flex),
        nodeId: r.int32(),
        host: r.string(flex),
        port: r.int32(),
        errorCode: r.int16(),
      };
      r.nullableString(flex);
      return res;
    });
    // Kafka may answer COORDINATOR_NOT_AVAILABLE while its offsets topic loads; both must settle on a node.
    expect(found.map((f) => f.key)).toEqual(keys);
    for (const f of found.filter((f) => f.errorCode === 0)) expect(`${f.host}:${f.port}`).toBe(brokers[0]);
    expect(found.every((f) => f.errorCode === 0 || f.errorCode === 15)).toBe(true);
  });

  it('fetches the offsets of several groups at once (OffsetFetch v8)', async () => {
    const name = fresh('flex-commits');
    expect((await createTopic(c, name, 2, {})).errorCode).toBe(0);
    const committed = fresh('committed');
    const never = fresh('never');
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: committed, topic: name, partitions: [{ partition: 0, offset: '0' }] });
    await admin.disconnect();
    const r = await c.request(
      API.OffsetFetch,
      8,
      (w) => {
        w.array(
          [committed, never],
          (w, g) => {
            w.string(g, flex);
            w.array(
              [name],
              (w, t) =>
                w
                  .string(t, flex)
                  .array([0, 1], (w, p) => w.int32(p), flex)
                  .tags(flex),
              flex,
            );
            w.tags(flex);
          },
          flex,
        );
        w.bool(false).tags(flex);
      },
      flex,
    );
    r.int32();
    const groups = structs(r, (r) => {
      const groupId = r.string(flex);
      const topics = structs(r, (r) => ({
        name: r.string(flex),
        partitions: structs(r, (r) => {
          const p = { index: r.int32(), offset: r.int64() };
          r.int32();
          r.nullableString(flex);
          return { ...p, errorCode: r.int16() };
        }),
      }));
      return { groupId, topics, errorCode: r.int16() };
    });
    expect(groups.map((g) => [g.groupId, g.errorCode])).toEqual([
      [committed, 0],
      [never, 0],
    ]);
    const offsets = (g: (typeof groups)[number]) =>
      g.topics[0]?.partitions.map((p) => [p.index, p.offset, p.errorCode]);
    expect(offsets(groups[0] as (typeof groups)[number])).toEqual([
      [0, 0, 0],
      [1, -1, 0],
    ]);
    expect(offsets(groups[1] as (typeof groups)[number])).toEqual([
      [0, -1, 0],
      [1, -1, 0],
    ]);
  });

  it('describes and lists a live classic group (DescribeGroups v5, ListGroups v5)', async () => {
    const name = fresh('flex-groups');
    expect((await createTopic(c, name, 1, {})).errorCode).toBe(0);
    const groupId = fresh('live');
    const consumer = kafka.consumer({ groupId });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
    });
    await consumer.connect();
    await consumer.subscribe({ topic: name, fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    try {
      for (let i = 0; i < 300 && !joined; i++) await new Promise((r) => setTimeout(r, 100));
      expect(joined).toBe(true);
      const r = await c.request(
        API.DescribeGroups,
        5,
        (w) =>
          w
            .array([groupId], (w, g) => w.string(g, flex), flex)
            .bool(false)
            .tags(flex),
        flex,
      );
      r.int32();
      const [group] = structs(r, (r) => {
        const head = {
          errorCode: r.int16(),
          groupId: r.string(flex),
          state: r.string(flex),
          protocolType: r.string(flex),
          protocol: r.string(flex),
        };
        const members = structs(r, (r) => {
          const m = {
            memberId: r.string(flex),
            instanceId: r.nullableString(flex),
            clientId: r.string(flex),
          };
          r.string(flex);
          r.bytes(flex);
          r.bytes(flex);
          return m;
        });
        return { ...head, members, operations: r.int32() };
      });
      expect(group).toMatchObject({ errorCode: 0, groupId, state: 'Stable', protocolType: 'consumer' });
      expect(group?.protocol).toBe('RoundRobinAssigner');
      expect(group?.members.map((m) => [m.clientId, m.instanceId])).toEqual([['contract-flexible', null]]);
      expect(group?.operations).toBe(-2147483648);

      const list = async (states: string[]) => {
        const r = await c.request(
          API.ListGroups,
          5,
          (w) => {
            w.array(states, (w, s) => w.string(s, flex), flex);
            w.array([], () => {}, flex).tags(flex);
          },
          flex,
        );
        r.int32();
        expect(r.int16()).toBe(0);
        return structs(r, (r) => ({
          groupId: r.string(flex),
          protocolType: r.string(flex),
          state: r.string(flex),
          type: r.string(flex),
        }));
      };
      const stable = await list(['Stable']);
      expect(stable.find((g) => g.groupId === groupId)).toEqual({
        groupId,
        protocolType: 'consumer',
        state: 'Stable',
        type: 'classic',
      });
      expect((await list(['Empty'])).some((g) => g.groupId === groupId)).toBe(false);
      expect(await deleteGroups(c, [groupId])).toEqual([[groupId, 68]]); // NON_EMPTY_GROUP
    } finally {
      await consumer.disconnect();
    }
  });

  it('runs a group through join, sync, heartbeat, commit and leave (JoinGroup v9, SyncGroup v5, Heartbeat v4, OffsetCommit v9, LeaveGroup v5)', async () => {
    const name = fresh('flex-member');
    expect((await createTopic(c, name, 1, {})).errorCode).toBe(0);
    const groupId = fresh('raw');
    // Kafka asks a new member to join again with the id it hands out (MEMBER_ID_REQUIRED, 79); either is fine.
    let joined = await joinGroup(c, groupId, '');
    if (joined.errorCode === 79) {
      expect(joined.protocolType).toBeNull();
      joined = await joinGroup(c, groupId, joined.memberId);
    }
    expect(joined).toMatchObject({
      errorCode: 0,
      protocolType: 'consumer',
      protocolName: 'range',
      skipAssignment: false,
    });
    expect(joined.leader).toBe(joined.memberId);
    expect(joined.members.map((m) => [m.id, m.instance, [...m.metadata]])).toEqual([
      [joined.memberId, null, [0, 7]],
    ]);
    const member = { groupId, memberId: joined.memberId, generation: joined.generationId };

    expect(await syncGroup(c, member, Buffer.from([4, 2]))).toEqual({
      errorCode: 0,
      protocolType: 'consumer',
      protocolName: 'range',
      assignment: [4, 2],
    });
    expect(await heartbeat(c, member)).toBe(0);
    expect(await heartbeat(c, { ...member, generation: member.generation + 5 })).toBe(22); // ILLEGAL_GENERATION
    expect(await commitOffset(c, member, name, 0, 0)).toEqual([{ name, partitions: [[0, 0]] }]);
    expect(await leaveGroup(c, member)).toEqual({ errorCode: 0, members: [[member.memberId, null, 0]] });
    expect(await heartbeat(c, member)).toBe(25); // UNKNOWN_MEMBER_ID: it left
  });

  it('hands an idempotent producer an id (InitProducerId v4)', async () => {
    const r = await c.request(
      API.InitProducerId,
      4,
      (w) => w.nullableString(null, flex).int32(60_000).int64(-1).int16(-1).tags(flex),
      flex,
    );
    r.int32();
    const errorCode = r.int16();
    const producerId = r.bigint64();
    const epoch = r.int16();
    r.tags(flex);
    expect(r.remaining()).toBe(0);
    expect([errorCode, producerId >= 0n, epoch]).toEqual([0, true, 0]);
  });

  it('deletes groups (DeleteGroups v2): an empty one goes, an unknown one is not found', async () => {
    const name = fresh('flex-delete');
    expect((await createTopic(c, name, 1, {})).errorCode).toBe(0);
    const groupId = fresh('doomed');
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId, topic: name, partitions: [{ partition: 0, offset: '0' }] });
    await admin.disconnect();
    const unknown = fresh('unknown');
    expect(await deleteGroups(c, [groupId, unknown])).toEqual([
      [groupId, 0],
      [unknown, 69], // GROUP_ID_NOT_FOUND
    ]);
    const fetched = await fetchOffsets(c, groupId, name);
    expect(fetched).toEqual([[0, -1]]);
    expect(await deleteGroups(c, [groupId])).toEqual([[groupId, 69]]);
  });
});
