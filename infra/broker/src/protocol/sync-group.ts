import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * SyncGroup v0-3.
 * Request: groupId string | generationId int32 | memberId string
 *   | v3+ groupInstanceId nullable string | assignments [memberId string assignment bytes]
 * Response: v1+ throttleTimeMs int32 | errorCode int16 | assignment bytes
 */
export function decodeSyncGroupRequest(r: Reader, version: number) {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  if (version >= 3) r.nullableString();
  const assignments = r.array((r) => ({ memberId: r.string(), assignment: Buffer.from(r.bytes()) }));
  return { groupId, generationId, memberId, assignments };
}

export function encodeSyncGroupResponse(
  w: Writer,
  version: number,
  errorCode: number,
  assignment: Buffer,
): void {
  if (version >= 1) w.int32(0);
  w.int16(errorCode).bytes(assignment);
}
