import { randomUUID } from 'node:crypto';
import { KafkaCode } from '../errors.js';
import type { DescribedGroup } from '../protocol/describe-groups.js';
import type { JoinGroupRequest, JoinGroupResult } from '../protocol/join-group.js';
import type { SyncGroupResult } from '../protocol/sync-group.js';

/** Group states of the classic protocol, named as Kafka's DescribeGroups reports them. */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

interface Member {
  id: string;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: Array<{ name: string; metadata: Buffer }>;
  assignment: Buffer;
  lastHeartbeat: number;
  joinWaiter: ((r: JoinGroupResult) => void) | null;
  syncWaiter: ((r: SyncGroupResult) => void) | null;
}

interface Group {
  id: string;
  state: GroupState;
  generation: number;
  protocolType: string;
  protocol: string;
  leader: string;
  members: Map<string, Member>;
  rebalanceDeadline: number;
}

/** Bounds and delays of the coordinator; Kafka's defaults unless a test narrows them. */
export interface CoordinatorOptions {
  now: () => number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
}

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * The group coordinator of the classic consumer protocol. Members join
 * (JoinGroup waits until every known member has rejoined or the rebalance
 * timeout passes), the leader's assignment is handed out through SyncGroup,
 * and heartbeats keep members alive. Time comes from `now`; `tick()` expires
 * sessions and rebalance deadlines, and the server calls it on a timer.
 */
export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly options: CoordinatorOptions) {}

  private group(id: string): Group {
    let g = this.groups.get(id);
    if (g === undefined) {
      g = {
        id,
        state: 'Empty',
        generation: 0,
        protocolType: '',
        protocol: '',
        leader: '',
        members: new Map(),
        rebalanceDeadline: 0,
      };
      this.groups.set(id, g);
    }
    return g;
  }

  join(req: JoinGroupRequest, clientId: string, clientHost: string): Promise<JoinGroupResult> {
    const fail = (errorCode: number, memberId = req.memberId): Promise<JoinGroupResult> =>
      Promise.resolve({ errorCode, generationId: -1, protocolName: '', leader: '', memberId, members: [] });
    if (req.groupId === '') return fail(KafkaCode.INVALID_GROUP_ID);
    const { minSessionTimeoutMs, maxSessionTimeoutMs } = this.options;
    if (req.sessionTimeoutMs < minSessionTimeoutMs || req.sessionTimeoutMs > maxSessionTimeoutMs) {
      return fail(KafkaCode.INVALID_SESSION_TIMEOUT);
    }
    const g = this.group(req.groupId);
    if (req.protocols.length === 0) return fail(KafkaCode.INCONSISTENT_GROUP_PROTOCOL);
    if (g.members.size > 0) {
      if (req.protocolType !== g.protocolType) return fail(KafkaCode.INCONSISTENT_GROUP_PROTOCOL);
      const others = [...g.members.values()].filter((m) => m.id !== req.memberId);
      const shared = req.protocols.some((p) =>
        others.every((m) => m.protocols.some((q) => q.name === p.name)),
      );
      if (!shared) return fail(KafkaCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    let member: Member | undefined;
    if (req.memberId === '') {
      member = {
        id: `${clientId}-${randomUUID()}`,
        clientId,
        clientHost,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        protocols: req.protocols,
        assignment: EMPTY,
        lastHeartbeat: this.options.now(),
        joinWaiter: null,
        syncWaiter: null,
      };
      g.members.set(member.id, member);
    } else {
      member = g.members.get(req.memberId);
      if (member === undefined) return fail(KafkaCode.UNKNOWN_MEMBER_ID);
      member.protocols = req.protocols;
      member.sessionTimeoutMs = req.sessionTimeoutMs;
      member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
      member.lastHeartbeat = this.options.now();
    }
    g.protocolType = req.protocolType;
    const joined = member;
    const result = new Promise<JoinGroupResult>((resolve) => {
      // A member that joins again while already waiting replaces its old request.
      joined.joinWaiter?.({
        errorCode: KafkaCode.REBALANCE_IN_PROGRESS,
        generationId: -1,
        protocolName: '',
        leader: '',
        memberId: joined.id,
        members: [],
      });
      joined.joinWaiter = resolve;
    });
    if (g.state !== 'PreparingRebalance') this.prepareRebalance(g);
    this.maybeCompleteJoin(g);
    return result;
  }

  private prepareRebalance(g: Group): void {
    // Members waiting in SyncGroup must rejoin.
    for (const m of g.members.values()) {
      if (m.syncWaiter) {
        m.syncWaiter(syncFailed(KafkaCode.REBALANCE_IN_PROGRESS));
        m.syncWaiter = null;
      }
    }
    g.state = 'PreparingRebalance';
    let timeout = 0;
    for (const m of g.members.values()) timeout = Math.max(timeout, m.rebalanceTimeoutMs);
    g.rebalanceDeadline = this.options.now() + timeout;
  }

  private maybeCompleteJoin(g: Group): void {
    if (g.state !== 'PreparingRebalance') return;
    for (const m of g.members.values()) if (m.joinWaiter === null) return;
    this.completeJoin(g);
  }

  /** Ends the join phase: members that did not rejoin are dropped, a new generation starts. */
  private completeJoin(g: Group): void {
    for (const [id, m] of g.members) if (m.joinWaiter === null) g.members.delete(id);
    g.generation++;
    if (g.members.size === 0) {
      g.state = 'Empty';
      g.leader = '';
      g.protocol = '';
      return;
    }
    const members = [...g.members.values()];
    g.protocol = chooseProtocol(members);
    if (!g.members.has(g.leader)) g.leader = (members[0] as Member).id;
    g.state = 'CompletingRebalance';
    const list = members.map((m) => ({
      memberId: m.id,
      groupInstanceId: null,
      metadata: m.protocols.find((p) => p.name === g.protocol)?.metadata ?? EMPTY,
    }));
    for (const m of members) {
      m.assignment = EMPTY;
      m.lastHeartbeat = this.options.now();
      const waiter = m.joinWaiter;
      m.joinWaiter = null;
      waiter?.({
        errorCode: KafkaCode.NONE,
        generationId: g.generation,
        protocolName: g.protocol,
        leader: g.leader,
        memberId: m.id,
        members: m.id === g.leader ? list : [],
      });
    }
  }

  sync(
    groupId: string,
    generationId: number,
    memberId: string,
    assignments: Array<{ memberId: string; assignment: Buffer }>,
  ): Promise<SyncGroupResult> {
    const answer = (errorCode: number) => Promise.resolve(syncFailed(errorCode));
    const g = this.groups.get(groupId);
    const m = g?.members.get(memberId);
    if (g === undefined || m === undefined) return answer(KafkaCode.UNKNOWN_MEMBER_ID);
    if (generationId !== g.generation) return answer(KafkaCode.ILLEGAL_GENERATION);
    m.lastHeartbeat = this.options.now();
    if (g.state === 'PreparingRebalance') return answer(KafkaCode.REBALANCE_IN_PROGRESS);
    if (g.state === 'Stable') return Promise.resolve(synced(g, m.assignment));
    const result = new Promise<SyncGroupResult>((resolve) => {
      m.syncWaiter = resolve;
    });
    if (memberId === g.leader) {
      for (const member of g.members.values()) {
        member.assignment = assignments.find((a) => a.memberId === member.id)?.assignment ?? EMPTY;
      }
      g.state = 'Stable';
      for (const member of g.members.values()) {
        const waiter = member.syncWaiter;
        member.syncWaiter = null;
        waiter?.(synced(g, member.assignment));
      }
    }
    return result;
  }

  heartbeat(groupId: string, generationId: number, memberId: string): number {
    const g = this.groups.get(groupId);
    const m = g?.members.get(memberId);
    if (g === undefined || m === undefined) return KafkaCode.UNKNOWN_MEMBER_ID;
    m.lastHeartbeat = this.options.now();
    if (g.state === 'PreparingRebalance') return KafkaCode.REBALANCE_IN_PROGRESS;
    if (generationId !== g.generation) return KafkaCode.ILLEGAL_GENERATION;
    return KafkaCode.NONE;
  }

  /** Removes members; returns an error code per member. */
  leave(groupId: string, memberIds: string[]): Array<{ memberId: string; errorCode: number }> {
    const g = this.groups.get(groupId);
    return memberIds.map((id) => {
      const m = g?.members.get(id);
      if (g === undefined || m === undefined) return { memberId: id, errorCode: KafkaCode.UNKNOWN_MEMBER_ID };
      this.remove(g, m);
      return { memberId: id, errorCode: KafkaCode.NONE };
    });
  }

  private remove(g: Group, m: Member): void {
    g.members.delete(m.id);
    m.joinWaiter?.({
      errorCode: KafkaCode.UNKNOWN_MEMBER_ID,
      generationId: -1,
      protocolName: '',
      leader: '',
      memberId: m.id,
      members: [],
    });
    m.syncWaiter?.(syncFailed(KafkaCode.UNKNOWN_MEMBER_ID));
    if (g.state === 'PreparingRebalance') this.maybeCompleteJoin(g);
    else if (g.members.size === 0) {
      g.state = 'Empty';
      g.generation++;
      g.leader = '';
    } else this.prepareRebalance(g);
  }

  /** Checks a commit against the group's membership; NONE when it may proceed. */
  validateCommit(groupId: string, generationId: number, memberId: string): number {
    const g = this.groups.get(groupId);
    if (groupId === '') return KafkaCode.INVALID_GROUP_ID;
    // A consumer outside any group (generation -1) may commit while the group has no members.
    if (g === undefined || g.members.size === 0) {
      return generationId < 0
        ? KafkaCode.NONE
        : g === undefined
          ? KafkaCode.NONE
          : KafkaCode.UNKNOWN_MEMBER_ID;
    }
    if (!g.members.has(memberId)) return KafkaCode.UNKNOWN_MEMBER_ID;
    if (generationId !== g.generation) return KafkaCode.ILLEGAL_GENERATION;
    if (g.state === 'PreparingRebalance' || g.state === 'CompletingRebalance')
      return KafkaCode.REBALANCE_IN_PROGRESS;
    const m = g.members.get(memberId);
    if (m) m.lastHeartbeat = this.options.now();
    return KafkaCode.NONE;
  }

  /** Expires members whose session ran out and rebalances that passed their deadline. */
  tick(): void {
    const now = this.options.now();
    for (const g of this.groups.values()) {
      for (const m of [...g.members.values()]) {
        // A member waiting in JoinGroup is bound by the rebalance timeout, not its session.
        if (m.joinWaiter === null && now - m.lastHeartbeat > m.sessionTimeoutMs) this.remove(g, m);
      }
      if (g.state === 'PreparingRebalance' && now >= g.rebalanceDeadline) this.completeJoin(g);
    }
  }

  describe(groupId: string): DescribedGroup {
    const g = this.groups.get(groupId);
    if (g === undefined) {
      return { errorCode: 0, groupId, state: 'Dead', protocolType: '', protocol: '', members: [] };
    }
    const stable = g.state === 'Stable';
    return {
      errorCode: 0,
      groupId,
      state: g.state,
      protocolType: g.protocolType,
      protocol: stable ? g.protocol : '',
      members: [...g.members.values()].map((m) => ({
        memberId: m.id,
        groupInstanceId: null,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? (m.protocols.find((p) => p.name === g.protocol)?.metadata ?? EMPTY) : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  /**
   * Removes a group without members; a group with members stays (false).
   * A group the coordinator does not know counts as removed.
   */
  removeIfEmpty(groupId: string): boolean {
    const g = this.groups.get(groupId);
    if (g === undefined) return true;
    if (g.members.size > 0) return false;
    this.groups.delete(groupId);
    return true;
  }

  /** True when the coordinator holds the group (with or without members). */
  has(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  list(): Array<{ groupId: string; protocolType: string; state: GroupState }> {
    return [...this.groups.values()].map((g) => ({
      groupId: g.id,
      protocolType: g.protocolType,
      state: g.state,
    }));
  }

  /** Answers every waiting request, for shutdown. */
  close(): void {
    for (const g of this.groups.values()) {
      for (const m of g.members.values()) {
        m.joinWaiter?.({
          errorCode: KafkaCode.COORDINATOR_NOT_AVAILABLE,
          generationId: -1,
          protocolName: '',
          leader: '',
          memberId: m.id,
          members: [],
        });
        m.syncWaiter?.(syncFailed(KafkaCode.COORDINATOR_NOT_AVAILABLE));
        m.joinWaiter = null;
        m.syncWaiter = null;
      }
    }
  }
}

/** A failed sync's answer: no assignment, no protocol. */
function syncFailed(errorCode: number): SyncGroupResult {
  return { errorCode, assignment: EMPTY, protocolType: null, protocol: null };
}

/** A successful sync's answer: the member's assignment and the group's protocol. */
function synced(g: Group, assignment: Buffer): SyncGroupResult {
  return { errorCode: KafkaCode.NONE, assignment, protocolType: g.protocolType, protocol: g.protocol };
}

/** The protocol every member supports that most members list first among those. */
function chooseProtocol(members: Member[]): string {
  const first = members[0] as Member;
  const candidates = first.protocols
    .map((p) => p.name)
    .filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
  const votes = new Map<string, number>();
  for (const m of members) {
    const pick = m.protocols.find((p) => candidates.includes(p.name));
    if (pick) votes.set(pick.name, (votes.get(pick.name) ?? 0) + 1);
  }
  let best = candidates[0] ?? '';
  for (const c of candidates) if ((votes.get(c) ?? 0) > (votes.get(best) ?? 0)) best = c;
  return best;
}
