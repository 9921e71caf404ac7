import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * ListGroups v0-5 (v3+ flexible).
 * Request: v4+ statesFilter [string] | v5+ typesFilter [string]
 * Response: v1+ throttleTimeMs int32 | errorCode int16 | groups [groupId string protocolType string
 *   | v4+ groupState string | v5+ groupType string]
 * Flexible versions end every structure in tagged fields. An empty filter
 * matches every group; filters compare case-insensitively, as Kafka does.
 */
export function decodeListGroupsRequest(r: Reader, version: number) {
  const flex = version >= 3;
  const states = version >= 4 ? r.array((r) => r.string(true), true) : [];
  const types = version >= 5 ? r.array((r) => r.string(true), true) : [];
  r.tags(flex);
  return { states, types };
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  state: string;
  /** The group protocol: every group of this broker is a classic one. */
  type: string;
}

export function encodeListGroupsResponse(w: Writer, version: number, groups: ListedGroup[]): void {
  const flex = version >= 3;
  if (version >= 1) w.int32(0);
  w.int16(0);
  w.array(
    groups,
    (w, g) => {
      w.string(g.groupId, flex).string(g.protocolType, flex);
      if (version >= 4) w.string(g.state, true);
      if (version >= 5) w.string(g.type, true);
      w.tags(flex);
    },
    flex,
  );
  w.tags(flex);
}
