import type { Writer } from './writer.js';

/**
 * ListGroups v0-2.
 * Request: (empty)
 * Response: v1+ throttleTimeMs int32 | errorCode int16 | groups [groupId string protocolType string]
 */
export function encodeListGroupsResponse(
  w: Writer,
  version: number,
  groups: Array<{ groupId: string; protocolType: string }>,
): void {
  if (version >= 1) w.int32(0);
  w.int16(0);
  w.array(groups, (w, g) => w.string(g.groupId).string(g.protocolType));
}
