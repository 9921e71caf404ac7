import { expect } from 'vitest';
import type { Reader } from '../../src/protocol/reader.js';
import type { RawClient } from './raw-client.js';

/*
 * Requests of the flexible versions (KIP-482) written and read field by
 * field, for the contract suites that send them to both backends.
 */

/** The API keys the flexible contract suites call. */
export const API = {
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
  DeleteGroups: 42,
  DescribeConfigs: 32,
} as const;
/** Kafka's zero UUID: no topic id. */
export const ZERO_ID = '0'.repeat(32);
/** Every request and answer here is flexible. */
export const flex = true;

/** ApiVersions v4: the version ranges the broker announces, by API key. */
export async function apiVersions(c: RawClient): Promise<Map<number, { min: number; max: number }>> {
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

export interface CreateResult {
  name: string;
  id: string;
  errorCode: number;
  numPartitions: number;
  replicationFactor: number;
  configs: Array<{ name: string; value: string | null; source: number }>;
}

/** CreateTopics v7 of one topic. */
export async function createTopic(
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
  const created = topic as CreateResult;
  if (created.errorCode === 0) await untilKnown(c, name);
  return created;
}

/**
 * Waits until Metadata names the topic with a leader for each partition:
 * Apache Kafka answers CreateTopics before its metadata cache has the topic,
 * and clients that look it up in between are told it does not exist.
 */
async function untilKnown(c: RawClient, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const meta = await metadata(c, [{ id: ZERO_ID, name }]);
    const [t] = meta.topics;
    if (t?.errorCode === 0 && t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)) return;
    if (Date.now() > deadline) throw new Error(`topic ${name} has no leaders 30 s after it was created`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface MetadataResult {
  brokers: Array<{ nodeId: number; host: string; port: number }>;
  topics: Array<{
    errorCode: number;
    name: string | null;
    id: string;
    partitions: Array<{ index: number; leader: number; leaderEpoch: number; replicas: number[] }>;
  }>;
}

/** Metadata v12 of topics named (or, with a null name, given by id); no auto-creation. */
export async function metadata(
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
export function structs<T>(r: Reader, each: (r: Reader) => T): T[] {
  return r.array((r) => {
    const v = each(r);
    r.tags(flex);
    return v;
  }, flex);
}
