import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * LeaveGroup v0-3.
 * Request: groupId string | v0-2 memberId string | v3+ members [memberId string groupInstanceId nullable string]
 * Response: v1+ throttleTimeMs int32 | errorCode int16
 *   | v3+ members [memberId string groupInstanceId nullable string errorCode int16]
 */
export function decodeLeaveGroupRequest(r: Reader, version: number) {
  const groupId = r.string();
  const memberIds =
    version >= 3
      ? r.array((r) => {
          const id = r.string();
          r.nullableString();
          return id;
        })
      : [r.string()];
  return { groupId, memberIds };
}

export function encodeLeaveGroupResponse(
  w: Writer,
  version: number,
  errorCode: number,
  members: Array<{ memberId: string; errorCode: number }>,
): void {
  if (version >= 1) w.int32(0);
  w.int16(errorCode);
  if (version >= 3) w.array(members, (w, m) => w.string(m.memberId).nullableString(null).int16(m.errorCode));
}
