import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * Heartbeat v0-4 (v4 flexible).
 * Request: groupId string | generationId int32 | memberId string | v3+ groupInstanceId nullable string
 * Response: v1+ throttleTimeMs int32 | errorCode int16
 * Flexible versions end every structure in tagged fields.
 */
export function decodeHeartbeatRequest(r: Reader, version: number) {
  const flex = version >= 4;
  const groupId = r.string(flex);
  const generationId = r.int32();
  const memberId = r.string(flex);
  if (version >= 3) r.nullableString(flex);
  r.tags(flex);
  return { groupId, generationId, memberId };
}

export function encodeHeartbeatResponse(w: Writer, version: number, errorCode: number): void {
  if (version >= 1) w.int32(0);
  w.int16(errorCode).tags(version >= 4);
}
