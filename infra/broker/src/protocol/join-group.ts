import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * JoinGroup v0-9 (v6+ flexible).
 * Request: groupId string | sessionTimeoutMs int32 | v1+ rebalanceTimeoutMs int32
 *   | memberId string | v5+ groupInstanceId nullable string | protocolType string
 *   | protocols [name string metadata bytes] | v8+ reason nullable string
 * Response: v2+ throttleTimeMs int32 | errorCode int16 | generationId int32
 *   | v7+ protocolType nullable string | protocolName string (v7+ nullable) | leader string
 *   | v9+ skipAssignment bool | memberId string
 *   | members [memberId string | v5+ groupInstanceId nullable string | metadata bytes]
 * Flexible versions end every structure in tagged fields. From v7 a failed
 * join names no protocol (null type and name), as Kafka answers it.
 */
export function decodeJoinGroupRequest(r: Reader, version: number) {
  const flex = version >= 6;
  const groupId = r.string(flex);
  const sessionTimeoutMs = r.int32();
  const rebalanceTimeoutMs = version >= 1 ? r.int32() : sessionTimeoutMs;
  const memberId = r.string(flex);
  const groupInstanceId = version >= 5 ? r.nullableString(flex) : null;
  const protocolType = r.string(flex);
  const protocols = r.array((r) => {
    const p = { name: r.string(flex), metadata: Buffer.from(r.bytes(flex)) };
    r.tags(flex);
    return p;
  }, flex);
  if (version >= 8) r.nullableString(flex);
  r.tags(flex);
  return {
    groupId,
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    memberId,
    groupInstanceId,
    protocolType,
    protocols,
  };
}

export type JoinGroupRequest = ReturnType<typeof decodeJoinGroupRequest>;

export interface JoinGroupResult {
  errorCode: number;
  generationId: number;
  protocolName: string;
  leader: string;
  memberId: string;
  members: Array<{ memberId: string; groupInstanceId: string | null; metadata: Buffer }>;
}

export function encodeJoinGroupResponse(
  w: Writer,
  version: number,
  res: JoinGroupResult,
  protocolType: string,
): void {
  const flex = version >= 6;
  if (version >= 2) w.int32(0);
  w.int16(res.errorCode).int32(res.generationId);
  if (version >= 7) {
    const ok = res.errorCode === 0;
    w.nullableString(ok ? protocolType : null, flex).nullableString(ok ? res.protocolName : null, flex);
  } else w.string(res.protocolName, flex);
  w.string(res.leader, flex);
  if (version >= 9) w.bool(false); // the leader always computes the assignment
  w.string(res.memberId, flex);
  w.array(
    res.members,
    (w, m) => {
      w.string(m.memberId, flex);
      if (version >= 5) w.nullableString(m.groupInstanceId, flex);
      w.bytes(m.metadata, flex).tags(flex);
    },
    flex,
  );
  w.tags(flex);
}
