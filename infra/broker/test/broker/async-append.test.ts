import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LogConfig, PartitionLog } from '../../src/log/partition-log.js';
import { checkBatch } from '../../src/log/record-batch.js';
import { buildBatch } from './raw-client.js';
import { readBack } from './read-back.js';

const BIG: LogConfig = { segmentBytes: 1 << 30, segmentMs: 1e12, retentionMs: -1, retentionBytes: -1 };

function batch(
  i: number,
  size = 64,
): { buf: Buffer; headers: Array<{ at: number; header: ReturnType<typeof header> }> } {
  const buf = buildBatch(
    [
      String(i)
        .padStart(4, '0')
        .repeat(size / 4),
    ],
    { timestamp: 1000 + i },
  );
  return { buf, headers: [{ at: 0, header: header(buf) }] };
}

function header(buf: Buffer) {
  const h = checkBatch(buf, 0);
  if (typeof h === 'string') throw new Error(h);
  return h;
}

/** Base offsets of the batches readable from `from` on. */
async function readable(log: PartitionLog, from = 0): Promise<number[]> {
  return (await readBack(log, from)).map(([base]) => base);
}

describe('appends written in the background', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(tmpdir(), 'async-append-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('shows a batch to readers only once it is written, and in order', async () => {
    const log = PartitionLog.open(dir, BIG, () => 1000);
    const appended = Array.from({ length: 20 }, (_, i) => {
      const { buf, headers } = batch(i);
      return log.append(buf, headers);
    });
    // Offsets are assigned at once, in order.
    expect(appended.map((a) => a.baseOffset)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(log.nextOffset).toBe(20);
    // Nothing written yet (the first write is in the threadpool): nothing to read.
    expect(log.readableOffset).toBeLessThan(20);
    expect(log.slice(log.readableOffset, 1 << 20)).toEqual([]);
    let woken = false;
    log.waitForAppend(() => {
      woken = true;
    });
    await Promise.all(appended.map((a) => a.written));
    expect(woken).toBe(true);
    expect(log.readableOffset).toBe(20);
    expect(await readable(log)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    log.close();
  });

  it('writes pending batches before a roll and a clean stop, so a reopened log has them all', async () => {
    const log = PartitionLog.open(dir, BIG, () => 1000);
    for (let i = 0; i < 5; i++) {
      const { buf, headers } = batch(i);
      log.append(buf, headers).written.catch(() => {});
    }
    log.roll();
    // The roll wrote everything of the old segment before starting the new one.
    expect(log.readableOffset).toBe(5);
    for (let i = 5; i < 9; i++) {
      const { buf, headers } = batch(i);
      log.append(buf, headers).written.catch(() => {});
    }
    log.flush();
    expect(log.readableOffset).toBe(9);
    log.close();
    const again = PartitionLog.open(dir, BIG, () => 1000);
    expect(again.nextOffset).toBe(9);
    expect(await readable(again)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    again.close();
  });

  it('lets a caller wait for everything appended so far, and refuses appends after close', async () => {
    const log = PartitionLog.open(dir, BIG, () => 1000);
    for (let i = 0; i < 10; i++) {
      const { buf, headers } = batch(i, 4096);
      log.append(buf, headers).written.catch(() => {});
    }
    await log.written();
    expect(log.readableOffset).toBe(10);
    log.close();
    const { buf, headers } = batch(10);
    expect(() => log.append(buf, headers)).toThrow(/failed a write|closed/);
  });

  it('writes acks=all batches through O_DSYNC, several at once, settling them in offset order', async () => {
    const log = PartitionLog.open(dir, BIG, () => 1000);
    const order: number[] = [];
    const appended = Array.from({ length: 24 }, (_, i) => {
      // Sizes vary so that writes in flight side by side could complete out of order.
      const { buf, headers } = batch(i, i % 3 === 0 ? 256 * 1024 : 64);
      const a = log.append(buf, headers, true);
      void a.written.then(() => order.push(i));
      return a;
    });
    const synced = await Promise.all(appended.map((a) => a.written));
    // Every write went through the O_DSYNC descriptor: no fsync round is needed for them.
    expect(synced.every((s) => s)).toBe(true);
    expect(order).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(await readable(log)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    log.close();
    const again = PartitionLog.open(dir, BIG, () => 1000);
    expect(again.nextOffset).toBe(24);
    expect(await readable(again)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    again.close();
  });

  it('falls back to fsync rounds for a segment that took a write without O_DSYNC', async () => {
    const log = PartitionLog.open(dir, BIG, () => 1000);
    const first = log.append(batch(0).buf, batch(0).headers, true);
    expect(await first.written).toBe(true);
    // acks=1: written plainly, maybe not on disk yet.
    const plain = log.append(batch(1).buf, batch(1).headers, false);
    expect(await plain.written).toBe(false);
    // A later acks=all batch must not become durable on its own behind it.
    const after = log.append(batch(2).buf, batch(2).headers, true);
    expect(await after.written).toBe(false);
    // A new segment starts clean.
    log.roll();
    const next = log.append(batch(3).buf, batch(3).headers, true);
    expect(await next.written).toBe(true);
    expect(await readable(log)).toEqual([0, 1, 2, 3]);
    log.close();
  });
});
