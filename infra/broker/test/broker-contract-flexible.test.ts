import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reader } from '../src/protocol/reader.js';
import { backends, fresh } from './broker/backends.js';
import { buildBatch, RawClient } from './broker/raw-client.js';

/*
 * The flexible request versions (KIP-482) that Kafka 4.x clients negotiate,
 * sent byte for byte and read field by field, against the embedded broker and
 * Apache Kafka alike. Versions are the newest the embedded broker serves.
 */

const API = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  ApiVersions: 18,
  CreateTopics: 19,
  InitProducerId: 22,
  DescribeConfigs: 32,
} as const;
const ZERO_ID = '0'.repeat(32);
const flex = true;

/** ApiVersions v4: the version ranges the broker announces, by API key. */
async function apiVersions(c: RawClient): Promise<Map<number, { min: number; max: number }>> {
  const r = await c.request(
    API.ApiVersions,
    4,
    (w) => w.string('contract', flex).string('1.0', flex).tags(flex),
    flex,
  );
  expect(r.int16()).toBe(0);
  const apis = r.array((r) => {
    const api = { key: r.int16(), min: r.int16(), max: r.int16() };
    r.tags(flex);
    return api;
  }, flex);
  r.int32();
  return new Map(apis.map((a) => [a.key, a]));
}

interface CreateResult {
  name: string;
  id: string;
  errorCode: number;
  numPartitions: number;
  replicationFactor: number;
  configs: Array<{ name: string; value: string | null; source: number }>;
}

/** CreateTopics v7 of one topic. */
async function createTopic(
  c: RawClient,
  name: string,
  partitions: number,
  configs: Record<string, string>,
): Promise<CreateResult> {
  const r = await c.request(
    API.CreateTopics,
    7,
    (w) => {
      w.array(
        [name],
        (w, n) => {
          w.string(n, flex)
            .int32(partitions)
            .int16(-1)
            .array([], () => {}, flex);
          w.array(Object.entries(configs), (w, [k, v]) => w.string(k, flex).string(v, flex).tags(flex), flex);
          w.tags(flex);
        },
        flex,
      );
      w.int32(30_000).bool(false).tags(flex);
    },
    flex,
  );
  r.int32();
  const [topic] = r.array((r): CreateResult => {
    const name = r.string(flex);
    const id = r.uuid();
    const errorCode = r.int16();
    r.nullableString(flex);
    const numPartitions = r.int32();
    const replicationFactor = r.int16();
    const configs =
      r.nullableArray((r) => {
        const c = {
          name: r.string(flex),
          value: r.nullableString(flex),
          readOnly: r.bool(),
          source: r.int8(),
        };
        r.bool();
        r.tags(flex);
        return c;
      }, flex) ?? [];
    r.tags(flex);
    return { name, id, errorCode, numPartitions, replicationFactor, configs };
  }, flex);
  r.tags(flex);
  return topic as CreateResult;
}

interface MetadataResult {
  brokers: Array<{ nodeId: number; host: string; port: number }>;
  topics: Array<{
    errorCode: number;
    name: string | null;
    id: string;
    partitions: Array<{ index: number; leader: number; leaderEpoch: number; replicas: number[] }>;
  }>;
}

/** Metadata v12 of topics named (or, with a null name, given by id); no auto-creation. */
async function metadata(
  c: RawClient,
  topics: Array<{ id: string; name: string | null }>,
): Promise<MetadataResult> {
  const r = await c.request(
    API.Metadata,
    12,
    (w) => {
      w.array(topics, (w, t) => w.uuid(t.id).nullableString(t.name, flex).tags(flex), flex);
      w.bool(false).bool(false).tags(flex);
    },
    flex,
  );
  r.int32();
  const brokers = r.array((r) => {
    const b = { nodeId: r.int32(), host: r.string(flex), port: r.int32() };
    r.nullableString(flex);
    r.tags(flex);
    return b;
  }, flex);
  r.nullableString(flex);
  r.int32();
  const parsed = r.array((r) => {
    const errorCode = r.int16();
    const name = r.nullableString(flex);
    const id = r.uuid();
    r.bool();
    const partitions = r.array((r) => {
      r.int16();
      const p = {
        index: r.int32(),
        leader: r.int32(),
        leaderEpoch: r.int32(),
        replicas: r.array((r) => r.int32(), flex),
      };
      r.array((r) => r.int32(), flex);
      r.array((r) => r.int32(), flex);
      r.tags(flex);
      return p;
    }, flex);
    r.int32();
    r.tags(flex);
    return { errorCode, name, id, partitions };
  }, flex);
  r.tags(flex);
  return { brokers, topics: parsed };
}

/** Reads a compact array of tagged structures with `each`. */
function structs<T>(r: Reader, each: (r: Reader) => T): T[] {
  return r.array((r) => {
    const v = each(r);
    r.tags(flex);
    return v;
  }, flex);
}

describe.each(backends)('broker contract, flexible versions: $name', (backend) => {
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

  it('announces, in ApiVersions v4, at least the versions the embedded broker serves', async () => {
    const versions = await apiVersions(c);
    // What the embedded broker claims must be real Kafka's too: each of these is served by both.
    const served: Array<[number, number]> = [
      [API.ApiVersions, 4],
      [API.Metadata, 13],
      [API.ListOffsets, 6],
      [API.OffsetFetch, 8],
      [API.FindCoordinator, 4],
      [API.DescribeGroups, 5],
      [API.ListGroups, 5],
      [API.CreateTopics, 7],
      [API.DescribeConfigs, 4],
      [API.JoinGroup, 9],
      [API.SyncGroup, 5],
      [API.Heartbeat, 4],
      [API.LeaveGroup, 5],
      [API.OffsetCommit, 9],
      [API.InitProducerId, 4],
      [API.Produce, 11],
      [API.Fetch, 12],
    ];
    for (const [key, max] of served) expect(versions.get(key)?.max, `api ${key}`).toBeGreaterThanOrEqual(max);
  });

  it('answers an ApiVersions newer than it knows with UNSUPPORTED_VERSION in the v0 layout', async () => {
    // Every ApiVersions from v3 on comes with request header v2, future ones too.
    const r = await c.request(API.ApiVersions, 127, () => {}, flex);
    expect(r.int16()).toBe(35);
    const apis = r.array((r) => ({ key: r.int16(), min: r.int16(), max: r.int16() }));
    expect(apis.find((a) => a.key === API.ApiVersions)?.max).toBeGreaterThanOrEqual(4);
  });

  it('closes the connection on a version of another API that it does not serve', async () => {
    const other = await RawClient.connect(brokers[0] as string);
    await expect(other.request(API.Metadata, 99, () => {}, flex)).rejects.toThrow(/connection closed/);
    other.close();
  });

  it('creates a topic (CreateTopics v7) and describes it (Metadata v12) by name and by id', async () => {
    const name = fresh('flex-create');
    const created = await createTopic(c, name, 2, { 'retention.ms': '3600000' });
    expect(created.errorCode).toBe(0);
    expect(created.numPartitions).toBe(2);
    expect(created.replicationFactor).toBe(1);
    expect(created.id).not.toBe(ZERO_ID);
    const retention = created.configs.find((k) => k.name === 'retention.ms');
    expect(retention).toMatchObject({ value: '3600000', source: 1 });

    const again = await createTopic(c, name, 2, {});
    expect(again.errorCode).toBe(36); // TOPIC_ALREADY_EXISTS
    expect(again.id).toBe(ZERO_ID);

    let meta = await metadata(c, [{ id: ZERO_ID, name }]);
    for (let i = 0; i < 100 && meta.topics[0]?.errorCode !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100)); // Kafka's metadata cache may lag its CreateTopics answer.
      meta = await metadata(c, [{ id: ZERO_ID, name }]);
    }
    const [node] = meta.brokers;
    const [topic] = meta.topics;
    expect(topic).toMatchObject({ errorCode: 0, name, id: created.id });
    expect(topic?.partitions.map((p) => p.index).sort()).toEqual([0, 1]);
    for (const p of topic?.partitions ?? []) {
      expect(p.leader).toBe(node?.nodeId);
      expect(p.replicas).toEqual([node?.nodeId]);
      expect(p.leaderEpoch).toBeGreaterThanOrEqual(0);
    }
    expect(`${node?.host}:${node?.port}`).toBe(brokers[0]);

    const byId = await metadata(c, [{ id: created.id, name: null }]);
    expect(byId.topics[0]).toMatchObject({ errorCode: 0, name, id: created.id });
  });

  it('reports unknown topics in Metadata v12 by name and by id without creating them', async () => {
    const name = fresh('flex-missing');
    // One request each: Kafka answers a request with an unknown id with that error alone.
    const byName = await metadata(c, [{ id: ZERO_ID, name }]);
    expect(byName.topics.map((t) => [t.name, t.errorCode])).toEqual([[name, 3]]); // UNKNOWN_TOPIC_OR_PARTITION
    const byId = await metadata(c, [{ id: 'f'.repeat(32), name: null }]);
    expect(byId.topics.map((t) => [t.id, t.errorCode])).toEqual([['f'.repeat(32), 100]]); // UNKNOWN_TOPIC_ID
    const later = await metadata(c, [{ id: ZERO_ID, name }]);
    expect(later.topics[0]?.errorCode).toBe(3);
  });

  it('describes topic configs (DescribeConfigs v4)', async () => {
    const name = fresh('flex-configs');
    expect((await createTopic(c, name, 1, { 'cleanup.policy': 'compact' })).errorCode).toBe(0);
    const describe = async (topic: string) => {
      const r = await c.request(
        API.DescribeConfigs,
        4,
        (w) => {
          w.array(
            [topic],
            (w, t) =>
              w
                .int8(2)
                .string(t, flex)
                .array(['cleanup.policy'], (w, k) => w.string(k, flex), flex)
                .tags(flex),
            flex,
          );
          w.bool(false).bool(false).tags(flex);
        },
        flex,
      );
      r.int32();
      return structs(r, (r) => {
        const errorCode = r.int16();
        r.nullableString(flex);
        r.int8();
        r.string(flex);
        const configs = structs(r, (r) => {
          const cfg = {
            name: r.string(flex),
            value: r.nullableString(flex),
            readOnly: r.bool(),
            source: r.int8(),
          };
          r.bool();
          structs(r, (r) => [r.string(flex), r.nullableString(flex), r.int8()]);
          r.int8();
          r.nullableString(flex);
          return cfg;
        });
        return { errorCode, configs };
      });
    };
    const [found] = await describe(name);
    expect(found?.errorCode).toBe(0);
    expect(found?.configs).toEqual([
      { name: 'cleanup.policy', value: 'compact', readOnly: false, source: 1 },
    ]);
    const [missing] = await describe(fresh('flex-nothing'));
    expect(missing?.errorCode).toBe(3);
  });

  it('lists the earliest and latest offsets (ListOffsets v6)', async () => {
    const name = fresh('flex-offsets');
    expect((await createTopic(c, name, 1, {})).errorCode).toBe(0);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: name,
      acks: -1,
      messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }],
    });
    await producer.disconnect();
    // One request per timestamp: Kafka refuses a partition named twice in one request (INVALID_REQUEST).
    const offsetAt = async (timestamp: number) => {
      const r = await c.request(
        API.ListOffsets,
        6,
        (w) => {
          w.int32(-1).int8(0);
          w.array(
            [name],
            (w, t) => {
              w.string(t, flex);
              w.array([timestamp], (w, ts) => w.int32(0).int32(-1).int64(ts).tags(flex), flex);
              w.tags(flex);
            },
            flex,
          );
          w.tags(flex);
        },
        flex,
      );
      r.int32();
      const [topic] = structs(r, (r) => ({
        name: r.string(flex),
        partitions: structs(r, (r) => ({
          index: r.int32(),
          errorCode: r.int16(),
          timestamp: r.int64(),
          offset: r.int64(),
          leaderEpoch: r.int32(),
        })),
      }));
      expect(topic?.name).toBe(name);
      return topic?.partitions.map((p) => [p.index, p.errorCode, p.offset]);
    };
    expect(await offsetAt(-2)).toEqual([[0, 0, 0]]);
    expect(await offsetAt(-1)).toEqual([[0, 0, 3]]);
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
    } finally {
      await consumer.disconnect();
    }
  });

  it('runs a group through join, sync, heartbeat, commit and leave (JoinGroup v9, SyncGroup v5, Heartbeat v4, OffsetCommit v9, LeaveGroup v5)', async () => {
    const name = fresh('flex-member');
    expect((await createTopic(c, name, 1, {})).errorCode).toBe(0);
    const groupId = fresh('raw');
    const join = async (memberId: string) => {
      const r = await c.request(
        API.JoinGroup,
        9,
        (w) => {
          w.string(groupId, flex)
            .int32(30_000)
            .int32(30_000)
            .string(memberId, flex)
            .nullableString(null, flex);
          w.string('consumer', flex);
          w.array(
            ['range'],
            (w, p) =>
              w
                .string(p, flex)
                .bytes(Buffer.from([0, 7]), flex)
                .tags(flex),
            flex,
          );
          w.nullableString('contract', flex).tags(flex);
        },
        flex,
      );
      r.int32();
      const res = {
        errorCode: r.int16(),
        generationId: r.int32(),
        protocolType: r.nullableString(flex),
        protocolName: r.nullableString(flex),
        leader: r.string(flex),
        skipAssignment: r.bool(),
        memberId: r.string(flex),
        members: structs(r, (r) => ({
          id: r.string(flex),
          instance: r.nullableString(flex),
          metadata: r.bytes(flex),
        })),
      };
      r.tags(flex);
      return res;
    };
    // Kafka asks a new member to join again with the id it hands out (MEMBER_ID_REQUIRED, 79); either is fine.
    let joined = await join('');
    if (joined.errorCode === 79) {
      expect(joined.protocolType).toBeNull();
      joined = await join(joined.memberId);
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
    const member = joined.memberId;
    const generation = joined.generationId;

    const sync = await c.request(
      API.SyncGroup,
      5,
      (w) => {
        w.string(groupId, flex).int32(generation).string(member, flex).nullableString(null, flex);
        w.nullableString('consumer', flex).nullableString('range', flex);
        w.array(
          [member],
          (w, m) =>
            w
              .string(m, flex)
              .bytes(Buffer.from([4, 2]), flex)
              .tags(flex),
          flex,
        ).tags(flex);
      },
      flex,
    );
    sync.int32();
    expect([
      sync.int16(),
      sync.nullableString(flex),
      sync.nullableString(flex),
      [...sync.bytes(flex)],
    ]).toEqual([0, 'consumer', 'range', [4, 2]]);

    const heartbeat = async (generationId: number) => {
      const r = await c.request(
        API.Heartbeat,
        4,
        (w) =>
          w
            .string(groupId, flex)
            .int32(generationId)
            .string(member, flex)
            .nullableString(null, flex)
            .tags(flex),
        flex,
      );
      r.int32();
      return r.int16();
    };
    expect(await heartbeat(generation)).toBe(0);
    expect(await heartbeat(generation + 5)).toBe(22); // ILLEGAL_GENERATION

    const commit = await c.request(
      API.OffsetCommit,
      9,
      (w) => {
        w.string(groupId, flex).int32(generation).string(member, flex).nullableString(null, flex);
        w.array(
          [name],
          (w, t) => {
            w.string(t, flex);
            w.array([0], (w, p) => w.int32(p).int64(0).int32(-1).nullableString('m', flex).tags(flex), flex);
            w.tags(flex);
          },
          flex,
        );
        w.tags(flex);
      },
      flex,
    );
    commit.int32();
    const committed = structs(commit, (r) => ({
      name: r.string(flex),
      partitions: structs(r, (r) => [r.int32(), r.int16()]),
    }));
    expect(committed).toEqual([{ name, partitions: [[0, 0]] }]);

    const leave = await c.request(
      API.LeaveGroup,
      5,
      (w) => {
        w.string(groupId, flex);
        w.array(
          [member],
          (w, m) => w.string(m, flex).nullableString(null, flex).nullableString('done', flex).tags(flex),
          flex,
        );
        w.tags(flex);
      },
      flex,
    );
    leave.int32();
    expect(leave.int16()).toBe(0);
    expect(structs(leave, (r) => [r.string(flex), r.nullableString(flex), r.int16()])).toEqual([
      [member, null, 0],
    ]);
    expect(await heartbeat(generation)).toBe(25); // UNKNOWN_MEMBER_ID: it left
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

  it('appends with Produce v11 and reads back with Fetch v12, the batch unchanged', async () => {
    const name = fresh('flex-records');
    expect((await createTopic(c, name, 1, {})).errorCode).toBe(0);
    const batch = buildBatch(['one', 'two', 'three']);
    const produce = async () => {
      const r = await c.request(
        API.Produce,
        11,
        (w) => {
          w.nullableString(null, flex).int16(-1).int32(30_000);
          w.array(
            [name],
            (w, t) => {
              w.string(t, flex);
              w.array([0], (w, p) => w.int32(p).bytes(batch, flex).tags(flex), flex);
              w.tags(flex);
            },
            flex,
          );
          w.tags(flex);
        },
        flex,
      );
      const [topic] = structs(r, (r) => ({
        name: r.string(flex),
        partitions: structs(r, (r) => {
          const p = { index: r.int32(), errorCode: r.int16(), baseOffset: r.int64() };
          r.int64();
          r.int64();
          structs(r, (r) => [r.int32(), r.nullableString(flex)]);
          r.nullableString(flex);
          return p;
        }),
      }));
      r.int32();
      r.tags(flex);
      expect(r.remaining()).toBe(0);
      return topic?.partitions[0];
    };
    expect(await produce()).toEqual({ index: 0, errorCode: 0, baseOffset: 0 });
    expect(await produce()).toEqual({ index: 0, errorCode: 0, baseOffset: 3 });

    const r = await c.request(
      API.Fetch,
      12,
      (w) => {
        w.int32(-1)
          .int32(500)
          .int32(1)
          .int32(1 << 20)
          .int8(0)
          .int32(0)
          .int32(-1);
        w.array(
          [name],
          (w, t) => {
            w.string(t, flex);
            w.array(
              [0],
              (w, p) =>
                w
                  .int32(p)
                  .int32(-1)
                  .int64(0)
                  .int32(-1)
                  .int64(-1)
                  .int32(1 << 20)
                  .tags(flex),
              flex,
            );
            w.tags(flex);
          },
          flex,
        );
        w.array([], () => {}, flex)
          .string('', flex)
          .tags(flex);
      },
      flex,
    );
    r.int32();
    expect(r.int16()).toBe(0);
    r.int32();
    const [topic] = structs(r, (r) => ({
      name: r.string(flex),
      partitions: structs(r, (r) => {
        const head = { index: r.int32(), errorCode: r.int16(), highWatermark: r.int64() };
        r.int64();
        r.int64();
        r.nullableArray((r) => [r.int64(), r.int64(), r.tags(flex)], flex);
        r.int32();
        return { ...head, records: r.nullableBytes(flex) };
      }),
    }));
    r.tags(flex);
    expect(r.remaining()).toBe(0);
    const [p] = topic?.partitions ?? [];
    expect(p).toMatchObject({ index: 0, errorCode: 0, highWatermark: 6 });
    // Two batches as produced; the broker sets only the base offset (and Kafka the leader epoch).
    const records = p?.records ?? Buffer.alloc(0);
    expect(records.length).toBe(2 * batch.length);
    for (const [i, at] of [0, batch.length].entries()) {
      expect(Number(records.readBigInt64BE(at)), `batch ${i} base offset`).toBe(3 * i);
      expect(records.subarray(at + 16, at + batch.length).equals(batch.subarray(16))).toBe(true);
    }
  });
});
