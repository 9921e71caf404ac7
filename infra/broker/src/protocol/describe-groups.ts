import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * DescribeGroups v0-2.
 * Request: groups [string]
 * Response: v1+ throttleTimeMs int32 | groups [errorCode int16 groupId string groupState string
 *   protocolType string protocolData string | members [memberId string clientId string
 *   clientHost string memberMetadata bytes memberAssignment bytes]]
 */
export function decodeDescribeGroupsRequest(r: Reader) {
  return { groups: r.array((r) => r.string()) };
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: Array<{
    memberId: string;
    clientId: string;
    clientHost: string;
    metadata: Buffer;
    assignment: Buffer;
  }>;
}

export function encodeDescribeGroupsResponse(w: Writer, version: number, groups: DescribedGroup[]): void {
  if (version >= 1) w.int32(0);
  w.array(groups, (w, g) => {
    w.int16(g.errorCode).string(g.groupId).string(g.state).string(g.protocolType).string(g.protocol);
    w.array(g.members, (w, m) =>
      w.string(m.memberId).string(m.clientId).string(m.clientHost).bytes(m.metadata).bytes(m.assignment),
    );
  });
}
