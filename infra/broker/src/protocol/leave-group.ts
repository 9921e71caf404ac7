import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * LeaveGroup v0-5 (v4+ flexible).
 * Request: groupId string | v0-2 memberId string
 *   | v3+ members [memberId string groupInstanceId nullable string | v5+ reason nullable string]
 * Response: v1+ throttleTimeMs int32 | errorCode int16
 *   | v3+ members [memberId string groupInstanceId nullable string errorCode int16]
 * Flexible versions end every structure in tagged fields.
 */
export function decodeLeaveGroupRequest(r: Reader, version: number) {
  const flex = version >= 4;
  const groupId = r.string(flex);
  const memberIds =
    version >= 3
      ? r.array((r) => {
          const id = r.string(flex);
          r.nullableString(flex);
          if (version >= 5) r.nullableString(flex);
          r.tags(flex);
          return id;
        }, flex)
      : [r.string()];
  r.tags(flex);
  return { groupId, memberIds };
}

export function encodeLeaveGroupResponse(
  w: Writer,
  version: number,
  errorCode: number,
  members: Array<{ memberId: string; errorCode: number }>,
): void {
  const flex = version >= 4;
  if (version >= 1) w.int32(0);
  w.int16(errorCode);
  if (version >= 3)
    w.array(
      members,
      (w, m) => w.string(m.memberId, flex).nullableString(null, flex).int16(m.errorCode).tags(flex),
      flex,
    );
  w.tags(flex);
}
