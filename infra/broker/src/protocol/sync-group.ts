import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * SyncGroup v0-5 (v4+ flexible).
 * Request: groupId string | generationId int32 | memberId string
 *   | v3+ groupInstanceId nullable string | v5+ protocolType nullable string protocolName nullable string
 *   | assignments [memberId string assignment bytes]
 * Response: v1+ throttleTimeMs int32 | errorCode int16
 *   | v5+ protocolType nullable string protocolName nullable string | assignment bytes
 * Flexible versions end every structure in tagged fields.
 */
export function decodeSyncGroupRequest(r: Reader, version: number) {
  const flex = version >= 4;
  const groupId = r.string(flex);
  const generationId = r.int32();
  const memberId = r.string(flex);
  if (version >= 3) r.nullableString(flex);
  if (version >= 5) {
    r.nullableString(flex);
    r.nullableString(flex);
  }
  const assignments = r.array((r) => {
    const a = { memberId: r.string(flex), assignment: Buffer.from(r.bytes(flex)) };
    r.tags(flex);
    return a;
  }, flex);
  r.tags(flex);
  return { groupId, generationId, memberId, assignments };
}

/** What a sync answers; the protocol is null unless the sync succeeded. */
export interface SyncGroupResult {
  errorCode: number;
  assignment: Buffer;
  protocolType: string | null;
  protocol: string | null;
}

export function encodeSyncGroupResponse(w: Writer, version: number, res: SyncGroupResult): void {
  const flex = version >= 4;
  if (version >= 1) w.int32(0);
  w.int16(res.errorCode);
  if (version >= 5) w.nullableString(res.protocolType, flex).nullableString(res.protocol, flex);
  w.bytes(res.assignment, flex).tags(flex);
}
