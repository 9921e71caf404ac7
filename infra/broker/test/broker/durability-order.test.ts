import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../src/server.js';
import { DurabilityOrder } from './durability-order.js';
import { buildBatch, produceRaw, RawClient } from './raw-client.js';

// SIGKILL leaves the page cache intact, so the crash test cannot show that an
// acks=all answer waited for the disk. This test can: the broker's
// durability probe reports, in order, each write (and whether it went through
// O_DSYNC), each fdatasync/fsync start and end, and each produce answer, and
// DurabilityOrder fails any acks=all answer that ran ahead of the disk.

describe('DurabilityOrder', () => {
  it('fails an answer that went out before the fdatasync of its bytes finished', () => {
    const o = new DurabilityOrder();
    o.written({ fd: 5, log: 'p', from: 0, to: 3, dsync: false });
    o.synced(5, 'start');
    o.answered(-1, [{ log: 'p', from: 0, to: 3 }]);
    o.synced(5, 'done');
    expect(o.violations).toHaveLength(1);
  });

  it('fails an answer whose sync started before the write completed', () => {
    const o = new DurabilityOrder();
    o.synced(5, 'start');
    o.written({ fd: 5, log: 'p', from: 0, to: 3, dsync: false });
    o.synced(5, 'done');
    o.answered(-1, [{ log: 'p', from: 0, to: 3 }]);
    expect(o.violations).toEqual([
      'acks=all answer for p offsets [0, 3) went out before offsets [0, 3) were durable',
    ]);
  });

  it('accepts O_DSYNC writes and completed syncs, and ignores acks=1', () => {
    const o = new DurabilityOrder();
    o.written({ fd: 6, log: 'p', from: 0, to: 2, dsync: true });
    o.written({ fd: 5, log: 'p', from: 2, to: 4, dsync: false });
    o.answered(1, [{ log: 'p', from: 2, to: 4 }]);
    o.synced(5, 'start');
    o.synced(5, 'done');
    o.answered(-1, [{ log: 'p', from: 0, to: 4 }]);
    expect(o.violations).toEqual([]);
    expect(o.checked).toEqual({ answers: 1, ranges: 1, byDsync: 0, bySync: 1 });
  });
});

describe('acks=all answers wait for the disk', () => {
  let dir: string;
  let broker: RunningBroker;
  let order: DurabilityOrder;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(tmpdir(), 'durability-order-'));
    order = new DurabilityOrder();
    broker = await startBroker({
      dataDir: dir,
      logger: pino({ level: 'silent' }),
      // Small segments, so appends also cross rolls (written synchronously, then fsynced).
      defaultTopicConfigs: { 'segment.bytes': String(16 * 1024) },
      durabilityProbe: order,
    });
  });
  afterEach(async () => {
    await broker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('on the O_DSYNC path, the fdatasync path, across segment rolls and for retried batches', async () => {
    const at = `127.0.0.1:${broker.port}`;
    const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(at)));
    // Metadata v4 with auto-creation makes both topics, with the broker's small segments.
    await (clients[0] as RawClient).request(3, 4, (w) =>
      w.int32(2).string('durable-only').string('mixed').bool(true),
    );
    const value = 'x'.repeat(700);
    // Four connections at once, each with its own partition-sized stream of batches; on
    // 'mixed' every fifth batch is acks=1, which moves the segment to plain writes and
    // the acks=all answers after it to the group fdatasync.
    await Promise.all(
      clients.map(async (c, k) => {
        for (let i = 0; i < 60; i++) {
          const topic = k < 2 ? 'durable-only' : 'mixed';
          const acks = topic === 'mixed' && i % 5 === 0 ? 1 : -1;
          const r = await produceRaw(c, topic, 0, buildBatch([`${k}-${i}`, value]), acks);
          expect(r.errorCode).toBe(0);
        }
      }),
    );
    // A retried idempotent batch is answered as a duplicate: only once the original is durable.
    const c = clients[0] as RawClient;
    const init = await c.request(22, 1, (w) => w.nullableString(null).int32(60_000));
    init.int32();
    expect(init.int16()).toBe(0);
    const producerId = init.bigint64();
    const epoch = init.int16();
    const batch = buildBatch(['once', value], { producerId, epoch, baseSequence: 0 });
    const [a, b] = await Promise.all([
      produceRaw(c, 'mixed', 0, Buffer.from(batch), 1),
      produceRaw(clients[1] as RawClient, 'mixed', 0, Buffer.from(batch), -1),
    ]);
    expect(b).toEqual(a);
    for (const x of clients) x.close();

    expect(order.violations).toEqual([]);
    // Every path was taken, so the check above had something to find.
    expect(order.checked.answers).toBeGreaterThanOrEqual(60 * 4 - 24 + 1);
    expect(order.checked.byDsync).toBeGreaterThan(10);
    expect(order.checked.bySync).toBeGreaterThan(10);
    expect(
      fs.readdirSync(path.join(dir, 'mixed-0')).filter((f) => f.endsWith('.log')).length,
    ).toBeGreaterThan(2);
  });
});
