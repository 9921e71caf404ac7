import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KafkaCode } from '../../src/errors.js';
import { GroupCoordinator } from '../../src/group/coordinator.js';
import { OffsetStore } from '../../src/group/offset-store.js';
import { Flusher } from '../../src/log/flusher.js';
import { ProducerStates } from '../../src/producer-state.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';

describe('reader and writer', () => {
  it('round-trip the protocol primitives and refuse truncated input', () => {
    const w = new Writer(4);
    w.int8(-3)
      .int16(-300)
      .int32(123456789)
      .int64(2 ** 40 + 5)
      .string('héllo')
      .nullableString(null);
    w.bytes(Buffer.alloc(5000, 1))
      .array([1, 2, 3], (w, v) => w.int32(v))
      .array(null, () => {});
    const buf = Buffer.concat(w.finish());
    expect(buf.length).toBe(w.length);
    const r = new Reader(buf);
    expect([r.int8(), r.int16(), r.int32(), r.int64(), r.string(), r.nullableString()]).toEqual([
      -3,
      -300,
      123456789,
      2 ** 40 + 5,
      'héllo',
      null,
    ]);
    expect(r.bytes().length).toBe(5000);
    expect(r.array((r) => r.int32())).toEqual([1, 2, 3]);
    expect(r.nullableArray((r) => r.int32())).toBeNull();
    expect(r.remaining()).toBe(0);
    expect(() => new Reader(buf.subarray(0, 10)).string()).toThrow(/read|string/);
    const lying = Buffer.alloc(8);
    lying.writeInt32BE(1_000_000, 0);
    expect(() => new Reader(lying).array((r) => r.int8())).toThrow(/array count/);
  });
});

describe('idempotent producer state', () => {
  it('answers retries with the original offset and refuses gaps and old epochs', () => {
    const s = new ProducerStates();
    expect(s.check(7n, 0, 0, 3)).toEqual({ kind: 'append' });
    s.record(7n, 0, 0, 3, 100);
    expect(s.check(7n, 0, 0, 3)).toEqual({ kind: 'duplicate', baseOffset: 100 });
    expect(s.check(7n, 0, 4, 1)).toEqual({ kind: 'reject', code: KafkaCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(s.check(7n, 0, 3, 1)).toEqual({ kind: 'append' });
    s.record(7n, 1, 0, 1, 200);
    expect(s.check(7n, 0, 1, 1)).toEqual({ kind: 'reject', code: KafkaCode.INVALID_PRODUCER_EPOCH });
    expect(s.check(-1n, -1, -1, 5)).toEqual({ kind: 'append' });
  });
});

describe('group coordinator', () => {
  const protocols = [{ name: 'range', metadata: Buffer.from('m') }];
  const join = (g: GroupCoordinator, memberId = '') =>
    g.join(
      {
        groupId: 'g',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 20_000,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols,
      },
      'client',
      'host',
    );

  it('runs join, sync and heartbeat, and expires a silent member', async () => {
    let now = 0;
    const g = new GroupCoordinator({
      now: () => now,
      minSessionTimeoutMs: 1000,
      maxSessionTimeoutMs: 60_000,
    });
    const a = await join(g);
    expect(a.errorCode).toBe(0);
    expect(a.leader).toBe(a.memberId);
    expect(a.members.length).toBe(1);
    const synced = await g.sync('g', a.generationId, a.memberId, [
      { memberId: a.memberId, assignment: Buffer.from('all') },
    ]);
    expect(synced.assignment.toString()).toBe('all');
    // A second member: the first must rejoin before the new generation starts.
    const bJoin = join(g);
    expect(g.heartbeat('g', a.generationId, a.memberId)).toBe(KafkaCode.REBALANCE_IN_PROGRESS);
    const a2 = await join(g, a.memberId);
    const b = await bJoin;
    expect(a2.generationId).toBe(a.generationId + 1);
    expect(b.generationId).toBe(a2.generationId);
    expect(a2.members.length).toBe(2);
    const bSync = g.sync('g', b.generationId, b.memberId, []);
    await g.sync('g', a2.generationId, a2.memberId, [
      { memberId: a2.memberId, assignment: Buffer.from('A') },
      { memberId: b.memberId, assignment: Buffer.from('B') },
    ]);
    expect((await bSync).assignment.toString()).toBe('B');
    expect(g.describe('g').state).toBe('Stable');
    // b stays silent past its session; a keeps beating.
    now += 6000;
    expect(g.heartbeat('g', a2.generationId, a2.memberId)).toBe(0);
    now += 6000;
    g.tick();
    expect(g.describe('g').members.length).toBe(1);
    expect(g.heartbeat('g', a2.generationId, a2.memberId)).toBe(KafkaCode.REBALANCE_IN_PROGRESS);
    expect(g.validateCommit('g', a2.generationId, b.memberId)).toBe(KafkaCode.UNKNOWN_MEMBER_ID);
  });

  it('refuses session timeouts outside the bounds and mismatched protocol types', async () => {
    const g = new GroupCoordinator({ now: () => 0, minSessionTimeoutMs: 6000, maxSessionTimeoutMs: 60_000 });
    const low = await g.join(
      {
        groupId: 'g',
        sessionTimeoutMs: 10,
        rebalanceTimeoutMs: 10,
        memberId: '',
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols,
      },
      'c',
      'h',
    );
    expect(low.errorCode).toBe(KafkaCode.INVALID_SESSION_TIMEOUT);
    await join(g);
    const other = await g.join(
      {
        groupId: 'g',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10,
        memberId: '',
        groupInstanceId: null,
        protocolType: 'connect',
        protocols,
      },
      'c',
      'h',
    );
    expect(other.errorCode).toBe(KafkaCode.INCONSISTENT_GROUP_PROTOCOL);
  });
});

describe('committed offset store', () => {
  it('keeps commits across a restart, ignores a torn last line and compacts the file', async () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'offsets-'));
    try {
      const store = new OffsetStore(dir, new Flusher());
      await store.commit('g', [
        { topic: 't', partition: 0, offset: 5, metadata: null },
        { topic: 't', partition: 1, offset: 7, metadata: 'm' },
      ]);
      await store.commit('g', [{ topic: 't', partition: 0, offset: 9, metadata: null }]);
      store.close();
      fs.appendFileSync(path.join(dir, 'group-offsets.log'), '{"g":"g","t":"t","p":0,"o":99');
      const again = new OffsetStore(dir, new Flusher());
      expect(again.get('g', 't', 0)).toEqual({ offset: 9, metadata: null });
      expect(again.get('g', 't', 1)).toEqual({ offset: 7, metadata: 'm' });
      expect(again.groups()).toEqual(['g']);
      again.close();
      const lines = fs.readFileSync(path.join(dir, 'group-offsets.log'), 'utf8').trim().split('\n');
      expect(lines.length).toBe(2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('forgets a deleted group across a restart, and a commit after the tombstone counts', async () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'offsets-'));
    try {
      const store = new OffsetStore(dir, new Flusher());
      await store.commit('gone', [{ topic: 't', partition: 0, offset: 5, metadata: null }]);
      await store.commit('kept', [{ topic: 't', partition: 0, offset: 6, metadata: null }]);
      await store.commit('back', [{ topic: 't', partition: 0, offset: 1, metadata: null }]);
      await store.deleteGroup('gone');
      await store.deleteGroup('back');
      await store.commit('back', [{ topic: 't', partition: 1, offset: 2, metadata: null }]);
      expect(store.groups().sort()).toEqual(['back', 'kept']);
      store.close();
      const lines = fs.readFileSync(path.join(dir, 'group-offsets.log'), 'utf8').trim().split('\n');
      expect(lines).toContain('{"g":"gone","deleted":true}');
      const again = new OffsetStore(dir, new Flusher());
      expect(again.get('gone', 't', 0)).toBeUndefined();
      expect(again.get('kept', 't', 0)).toEqual({ offset: 6, metadata: null });
      expect(again.get('back', 't', 0)).toBeUndefined();
      expect(again.get('back', 't', 1)).toEqual({ offset: 2, metadata: null });
      again.close();
      // Compacted on start: the tombstones went with the offsets they removed.
      const compacted = fs.readFileSync(path.join(dir, 'group-offsets.log'), 'utf8').trim().split('\n');
      expect(compacted.length).toBe(2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
