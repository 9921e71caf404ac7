import { KafkaCode } from '../errors.js';
import { decodeDeleteGroupsRequest, encodeDeleteGroupsResponse } from '../protocol/delete-groups.js';
import {
  type DescribedGroup,
  decodeDescribeGroupsRequest,
  encodeDescribeGroupsResponse,
} from '../protocol/describe-groups.js';
import {
  type Coordinator,
  decodeFindCoordinatorRequest,
  encodeFindCoordinatorResponse,
} from '../protocol/find-coordinator.js';
import {
  decodeListGroupsRequest,
  encodeListGroupsResponse,
  type ListedGroup,
} from '../protocol/list-groups.js';
import {
  decodeOffsetFetchRequest,
  encodeOffsetFetchResponse,
  type OffsetFetchGroup,
} from '../protocol/offset-fetch.js';
import type { Reader } from '../protocol/reader.js';
import type { Writer } from '../protocol/writer.js';
import type { GroupCoordinator } from './coordinator.js';
import type { OffsetStore } from './offset-store.js';

/** The broker node clients are sent to: the only one, so every group's coordinator. */
export interface Node {
  nodeId: number;
  host: string;
  port: number;
}

/** Key type 0 of FindCoordinator: a consumer group. */
const GROUP_KEY = 0;

/**
 * The requests about consumer groups as a whole: where the coordinator is,
 * which groups exist, what they look like, what they committed, and deleting
 * them. The requests of a member (join, sync, heartbeat, leave, commit) stay
 * with the broker.
 */
export class GroupRequests {
  constructor(
    private readonly groups: GroupCoordinator,
    private readonly offsets: OffsetStore,
    private readonly node: () => Node,
  ) {}

  /**
   * FindCoordinator: this node for every group. There is no transaction
   * coordinator, so transactional ids get COORDINATOR_NOT_AVAILABLE, as from
   * a Kafka broker whose transaction log is not loaded.
   */
  findCoordinator(w: Writer, v: number, r: Reader): void {
    const req = decodeFindCoordinatorRequest(r, v);
    const node = this.node();
    const coordinators = req.keys.map((key): Coordinator => {
      if (req.keyType === GROUP_KEY) return { key, errorCode: KafkaCode.NONE, errorMessage: null, node };
      return {
        key,
        errorCode: KafkaCode.COORDINATOR_NOT_AVAILABLE,
        errorMessage: `key type ${req.keyType}: this broker coordinates consumer groups only`,
        node: { nodeId: -1, host: '', port: -1 },
      };
    });
    encodeFindCoordinatorResponse(w, v, coordinators);
  }

  describeGroups(w: Writer, v: number, r: Reader): void {
    const req = decodeDescribeGroupsRequest(r, v);
    const described = req.groups.map((g): DescribedGroup => {
      const live = this.groups.describe(g);
      // A group known only by its committed offsets is empty, as Kafka reports it.
      if (live.state === 'Dead' && this.offsets.groups().includes(g))
        return { ...live, state: 'Empty', protocolType: 'consumer' };
      return live;
    });
    encodeDescribeGroupsResponse(
      w,
      v,
      described,
      req.includeAuthorizedOperations ? GROUP_OPERATIONS : OMITTED,
    );
  }

  listGroups(w: Writer, v: number, r: Reader): void {
    const req = decodeListGroupsRequest(r, v);
    const seen = new Map<string, ListedGroup>();
    for (const g of this.groups.list()) seen.set(g.groupId, { ...g, type: 'classic' });
    for (const g of this.offsets.groups())
      if (!seen.has(g))
        seen.set(g, { groupId: g, protocolType: 'consumer', state: 'Empty', type: 'classic' });
    const states = new Set(req.states.map((s) => s.toLowerCase()));
    const types = new Set(req.types.map((s) => s.toLowerCase()));
    const listed = [...seen.values()].filter(
      (g) =>
        (states.size === 0 || states.has(g.state.toLowerCase())) &&
        (types.size === 0 || types.has(g.type.toLowerCase())),
    );
    encodeListGroupsResponse(w, v, listed);
  }

  /**
   * DeleteGroups: a group with members is refused (NON_EMPTY_GROUP), one
   * never seen is GROUP_ID_NOT_FOUND; otherwise its committed offsets are
   * removed durably before the answer.
   */
  async deleteGroups(w: Writer, v: number, r: Reader): Promise<void> {
    const req = decodeDeleteGroupsRequest(r, v);
    const results: Array<{ groupId: string; errorCode: number }> = [];
    for (const groupId of req.groups) {
      const known = this.groups.has(groupId) || this.offsets.groups().includes(groupId);
      if (!known) results.push({ groupId, errorCode: KafkaCode.GROUP_ID_NOT_FOUND });
      else if (!this.groups.removeIfEmpty(groupId))
        results.push({ groupId, errorCode: KafkaCode.NON_EMPTY_GROUP });
      else {
        await this.offsets.deleteGroup(groupId);
        results.push({ groupId, errorCode: KafkaCode.NONE });
      }
    }
    encodeDeleteGroupsResponse(w, v, results);
  }

  offsetFetch(w: Writer, v: number, r: Reader): void {
    const req = decodeOffsetFetchRequest(r, v);
    const groups = req.groups.map((g): OffsetFetchGroup => {
      if (g.topics === null) {
        const topics = [...this.offsets.all(g.groupId)].map(([name, parts]) => ({
          name,
          partitions: parts.map((p) => ({
            index: p.partition,
            offset: p.committed.offset,
            metadata: p.committed.metadata,
            errorCode: 0,
          })),
        }));
        return { groupId: g.groupId, topics, errorCode: KafkaCode.NONE };
      }
      const topics = g.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((index) => {
          const c = this.offsets.get(g.groupId, t.name, index);
          return { index, offset: c?.offset ?? -1, metadata: c?.metadata ?? '', errorCode: 0 };
        }),
      }));
      return { groupId: g.groupId, topics, errorCode: KafkaCode.NONE };
    });
    encodeOffsetFetchResponse(w, v, groups);
  }
}

/** Authorized operations when the request did not ask for them. */
const OMITTED = -2147483648;
/** Every operation on a group (read 3, delete 6, describe 8): the broker has no ACLs. */
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
