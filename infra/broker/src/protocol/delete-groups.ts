import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * DeleteGroups v0-2 (v2 flexible).
 * Request: groupsNames [string]
 * Response: throttleTimeMs int32 | results [groupId string errorCode int16]
 * Flexible versions end every structure in tagged fields.
 */
export function decodeDeleteGroupsRequest(r: Reader, version: number) {
  const flex = version >= 2;
  const groups = r.array((r) => r.string(flex), flex);
  r.tags(flex);
  return { groups };
}

export function encodeDeleteGroupsResponse(
  w: Writer,
  version: number,
  results: Array<{ groupId: string; errorCode: number }>,
): void {
  const flex = version >= 2;
  w.int32(0);
  w.array(results, (w, res) => w.string(res.groupId, flex).int16(res.errorCode).tags(flex), flex);
  w.tags(flex);
}
