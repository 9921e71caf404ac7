import { API, flex, structs } from './flexible-requests.js';
import type { RawClient } from './raw-client.js';

/*
 * The consumer-group requests of the newest flexible versions, one member of
 * one group with the range protocol, written and read field by field.
 */

/** A member of a group that has joined: what every later request names. */
export interface Member {
  groupId: string;
  memberId: string;
  generation: number;
}

/** JoinGroup v9 with the range protocol (metadata 0 7); an empty member id is a new member. */
export async function joinGroup(c: RawClient, groupId: string, memberId: string) {
  const r = await c.request(
    API.JoinGroup,
    9,
    (w) => {
      w.string(groupId, flex).int32(30_000).int32(30_000).string(memberId, flex).nullableString(null, flex);
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
}

/** SyncGroup v5 by the leader, giving itself `assignment`. */
export async function syncGroup(c: RawClient, m: Member, assignment: Buffer) {
  const r = await c.request(
    API.SyncGroup,
    5,
    (w) => {
      w.string(m.groupId, flex).int32(m.generation).string(m.memberId, flex).nullableString(null, flex);
      w.nullableString('consumer', flex).nullableString('range', flex);
      w.array([m.memberId], (w, id) => w.string(id, flex).bytes(assignment, flex).tags(flex), flex).tags(
        flex,
      );
    },
    flex,
  );
  r.int32();
  return {
    errorCode: r.int16(),
    protocolType: r.nullableString(flex),
    protocolName: r.nullableString(flex),
    assignment: [...r.bytes(flex)],
  };
}

/** Heartbeat v4; resolves to its error code. */
export async function heartbeat(c: RawClient, m: Member): Promise<number> {
  const r = await c.request(
    API.Heartbeat,
    4,
    (w) =>
      w
        .string(m.groupId, flex)
        .int32(m.generation)
        .string(m.memberId, flex)
        .nullableString(null, flex)
        .tags(flex),
    flex,
  );
  r.int32();
  return r.int16();
}

/** OffsetCommit v9 of one partition; resolves to [partition, error code] per topic. */
export async function commitOffset(
  c: RawClient,
  m: Member,
  topic: string,
  partition: number,
  offset: number,
) {
  const r = await c.request(
    API.OffsetCommit,
    9,
    (w) => {
      w.string(m.groupId, flex).int32(m.generation).string(m.memberId, flex).nullableString(null, flex);
      w.array(
        [topic],
        (w, t) => {
          w.string(t, flex);
          w.array(
            [partition],
            (w, p) => w.int32(p).int64(offset).int32(-1).nullableString('m', flex).tags(flex),
            flex,
          );
          w.tags(flex);
        },
        flex,
      );
      w.tags(flex);
    },
    flex,
  );
  r.int32();
  return structs(r, (r) => ({ name: r.string(flex), partitions: structs(r, (r) => [r.int32(), r.int16()]) }));
}

/** LeaveGroup v5 of the member, with a reason. */
export async function leaveGroup(c: RawClient, m: Member) {
  const r = await c.request(
    API.LeaveGroup,
    5,
    (w) => {
      w.string(m.groupId, flex);
      w.array(
        [m.memberId],
        (w, id) => w.string(id, flex).nullableString(null, flex).nullableString('done', flex).tags(flex),
        flex,
      );
      w.tags(flex);
    },
    flex,
  );
  r.int32();
  const errorCode = r.int16();
  return { errorCode, members: structs(r, (r) => [r.string(flex), r.nullableString(flex), r.int16()]) };
}

/** DeleteGroups v2; resolves to [group, error code] per group. */
export async function deleteGroups(c: RawClient, groups: string[]): Promise<Array<[string, number]>> {
  const r = await c.request(
    API.DeleteGroups,
    2,
    (w) => w.array(groups, (w, g) => w.string(g, flex), flex).tags(flex),
    flex,
  );
  r.int32();
  return structs(r, (r): [string, number] => [r.string(flex), r.int16()]);
}

/** OffsetFetch v8 of partition 0 of one topic for one group; resolves to [partition, offset] pairs. */
export async function fetchOffsets(
  c: RawClient,
  groupId: string,
  topic: string,
): Promise<Array<[number, number]>> {
  const r = await c.request(
    API.OffsetFetch,
    8,
    (w) => {
      w.array(
        [groupId],
        (w, g) => {
          w.string(g, flex);
          w.array(
            [topic],
            (w, t) =>
              w
                .string(t, flex)
                .array([0], (w, p) => w.int32(p), flex)
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
  const [group] = structs(r, (r) => {
    r.string(flex);
    const topics = structs(r, (r) => {
      r.string(flex);
      return structs(r, (r): [number, number] => {
        const p: [number, number] = [r.int32(), r.int64()];
        r.int32();
        r.nullableString(flex);
        r.int16();
        return p;
      });
    });
    r.int16();
    return topics;
  });
  return group?.[0] ?? [];
}
