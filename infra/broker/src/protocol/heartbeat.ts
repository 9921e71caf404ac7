import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * Heartbeat v0-3.
 * Request: groupId string | generationId int32 | memberId string | v3+ groupInstanceId nullable string
 * Response: v1+ throttleTimeMs int32 | errorCode int16
 */
export function decodeHeartbeatRequest(r: Reader, version: number) {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  if (version >= 3) r.nullableString();
  return { groupId, generationId, memberId };
}

export function encodeHeartbeatResponse(w: Writer, version: number, errorCode: number): void {
  if (version >= 1) w.int32(0);
  w.int16(errorCode);
}
