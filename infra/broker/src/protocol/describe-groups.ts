import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * DescribeGroups v0-5 (v5 flexible).
 * Request: groups [string] | v3+ includeAuthorizedOperations bool
 * Response: v1+ throttleTimeMs int32 | groups [errorCode int16 groupId string groupState string
 *   protocolType string protocolData string | members [memberId string
 *   | v4+ groupInstanceId nullable string | clientId string clientHost string
 *   memberMetadata bytes memberAssignment bytes] | v3+ authorizedOperations int32]
 * Flexible versions end every structure in tagged fields. Authorized
 * operations are INT32_MIN when the request did not ask for them.
 */
export function decodeDescribeGroupsRequest(r: Reader, version: number) {
  const flex = version >= 5;
  const groups = r.array((r) => r.string(flex), flex);
  const includeAuthorizedOperations = version >= 3 ? r.bool() : false;
  r.tags(flex);
  return { groups, includeAuthorizedOperations };
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: Array<{
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Buffer;
    assignment: Buffer;
  }>;
}

export function encodeDescribeGroupsResponse(
  w: Writer,
  version: number,
  groups: DescribedGroup[],
  authorizedOperations: number,
): void {
  const flex = version >= 5;
  if (version >= 1) w.int32(0);
  w.array(
    groups,
    (w, g) => {
      w.int16(g.errorCode).string(g.groupId, flex).string(g.state, flex);
      w.string(g.protocolType, flex).string(g.protocol, flex);
      w.array(
        g.members,
        (w, m) => {
          w.string(m.memberId, flex);
          if (version >= 4) w.nullableString(m.groupInstanceId, flex);
          w.string(m.clientId, flex).string(m.clientHost, flex);
          w.bytes(m.metadata, flex).bytes(m.assignment, flex).tags(flex);
        },
        flex,
      );
      if (version >= 3) w.int32(authorizedOperations);
      w.tags(flex);
    },
    flex,
  );
  w.tags(flex);
}
