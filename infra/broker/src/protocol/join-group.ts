import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * JoinGroup v0-5.
 * Request: groupId string | sessionTimeoutMs int32 | v1+ rebalanceTimeoutMs int32
 *   | memberId string | v5+ groupInstanceId nullable string | protocolType string
 *   | protocols [name string metadata bytes]
 * Response: v2+ throttleTimeMs int32 | errorCode int16 | generationId int32
 *   | protocolName string | leader string | memberId string
 *   | members [memberId string | v5+ groupInstanceId nullable string | metadata bytes]
 */
export function decodeJoinGroupRequest(r: Reader, version: number) {
  const groupId = r.string();
  const sessionTimeoutMs = r.int32();
  const rebalanceTimeoutMs = version >= 1 ? r.int32() : sessionTimeoutMs;
  const memberId = r.string();
  const groupInstanceId = version >= 5 ? r.nullableString() : null;
  const protocolType = r.string();
  const protocols = r.array((r) => ({ name: r.string(), metadata: Buffer.from(r.bytes()) }));
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

export function encodeJoinGroupResponse(w: Writer, version: number, res: JoinGroupResult): void {
  if (version >= 2) w.int32(0);
  w.int16(res.errorCode)
    .int32(res.generationId)
    .string(res.protocolName)
    .string(res.leader)
    .string(res.memberId);
  w.array(res.members, (w, m) => {
    w.string(m.memberId);
    if (version >= 5) w.nullableString(m.groupInstanceId);
    w.bytes(m.metadata);
  });
}
