import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * OffsetFetch v1-8 (v6+ flexible, v8+ several groups per request).
 * Request v1-7: groupId string | topics [name string partitionIndexes [int32]] (v2+ nullable: all)
 *   | v7+ requireStable bool
 * Request v8: groups [groupId string | topics nullable [name string partitionIndexes [int32]]]
 *   | requireStable bool
 * Response v1-7: v3+ throttleTimeMs int32 | topics [name string | partitions [partitionIndex int32
 *   committedOffset int64 | v5+ committedLeaderEpoch int32 | metadata nullable string
 *   errorCode int16]] | v2+ errorCode int16
 * Response v8: throttleTimeMs int32 | groups [groupId string | topics [name string
 *   | partitions [partitionIndex int32 committedOffset int64 committedLeaderEpoch int32
 *   metadata nullable string errorCode int16]] | errorCode int16]
 * Flexible versions end every structure in tagged fields. Commits are never
 * pending on this broker (no transactions), so requireStable changes nothing.
 */
export function decodeOffsetFetchRequest(r: Reader, version: number) {
  const flex = version >= 6;
  const topicsOf = (r: Reader) =>
    r.nullableArray((r) => {
      const name = r.string(flex);
      const partitions = r.array((r) => r.int32(), flex);
      r.tags(flex);
      return { name, partitions };
    }, flex);
  let groups: Array<{ groupId: string; topics: ReturnType<typeof topicsOf> }>;
  if (version >= 8) {
    groups = r.array((r) => {
      const groupId = r.string(true);
      const topics = topicsOf(r);
      r.tags(true);
      return { groupId, topics };
    }, true);
  } else {
    const groupId = r.string(flex);
    groups = [{ groupId, topics: topicsOf(r) }];
  }
  if (version >= 7) r.bool();
  r.tags(flex);
  return { groups };
}

export interface OffsetFetchPartition {
  index: number;
  offset: number;
  metadata: string | null;
  errorCode: number;
}

export interface OffsetFetchGroup {
  groupId: string;
  topics: Array<{ name: string; partitions: OffsetFetchPartition[] }>;
  errorCode: number;
}

export function encodeOffsetFetchResponse(w: Writer, version: number, groups: OffsetFetchGroup[]): void {
  const flex = version >= 6;
  const topics = (w: Writer, g: OffsetFetchGroup) =>
    w.array(
      g.topics,
      (w, t) => {
        w.string(t.name, flex);
        w.array(
          t.partitions,
          (w, p) => {
            w.int32(p.index).int64(p.offset);
            if (version >= 5) w.int32(-1); // no leader epoch is kept with a commit
            w.nullableString(p.metadata, flex).int16(p.errorCode).tags(flex);
          },
          flex,
        );
        w.tags(flex);
      },
      flex,
    );
  if (version >= 3) w.int32(0);
  if (version >= 8) {
    w.array(
      groups,
      (w, g) => {
        w.string(g.groupId, true);
        topics(w, g);
        w.int16(g.errorCode).tags(true);
      },
      true,
    );
  } else {
    const g = groups[0] as OffsetFetchGroup;
    topics(w, g);
    if (version >= 2) w.int16(g.errorCode);
  }
  w.tags(flex);
}
