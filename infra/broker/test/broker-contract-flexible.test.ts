import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, fresh } from './broker/backends.js';
import {
  API,
  apiVersions,
  createTopic,
  flex,
  metadata,
  structs,
  ZERO_ID,
} from './broker/flexible-requests.js';
import { buildBatch, RawClient } from './broker/raw-client.js';

/*
 * The flexible request versions (KIP-482) that Kafka 4.x clients negotiate,
 * sent byte for byte and read field by field, against the embedded broker and
 * Apache Kafka alike: versions, topics, configs, offsets and records.
 * Versions are the newest the embedded broker serves. The group APIs are in
 * broker-contract-flexible-groups.test.ts.
 */

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

    const meta = await metadata(c, [{ id: ZERO_ID, name }]);
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
