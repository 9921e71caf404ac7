import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LogConfig, PartitionLog } from '../../src/log/partition-log.js';
import { checkBatch } from '../../src/log/record-batch.js';
import { buildBatch } from './raw-client.js';
import { readBack } from './read-back.js';

const BIG: LogConfig = { segmentBytes: 1 << 30, segmentMs: 1e12, retentionMs: -1, retentionBytes: -1 };

function appendValues(log: PartitionLog, values: string[], timestamp = 1000): number {
  const buf = buildBatch(values, { timestamp });
  const h = checkBatch(buf, 0);
  if (typeof h === 'string') throw new Error(h);
  return log.appendSync(buf, [{ at: 0, header: h }]);
}

describe('partition log segments and recovery', () => {
  let dir: string;
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(tmpdir(), 'plog-'));
    now = 1_000_000;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('assigns offsets, keeps batch bytes and reads from the middle of the log', async () => {
    const log = PartitionLog.open(dir, BIG, clock);
    const sent = buildBatch(['a', 'b', 'c'], { timestamp: 1000 });
    expect(appendValues(log, ['a', 'b', 'c'])).toBe(0);
    expect(appendValues(log, ['d'])).toBe(3);
    expect(appendValues(log, ['e', 'f'])).toBe(4);
    expect(log.nextOffset).toBe(6);
    expect(await readBack(log)).toEqual([
      [0, 3],
      [3, 1],
      [4, 2],
    ]);
    // Offset 5 lies inside the batch at 4: the read starts there.
    expect((await readBack(log, 5))[0]).toEqual([4, 2]);
    // Stored bytes equal the produced ones except the base offset (outside the CRC).
    const stored = fs.readFileSync(path.join(dir, `${'0'.repeat(20)}.log`)).subarray(0, sent.length);
    expect(stored.subarray(8).equals(sent.subarray(8))).toBe(true);
    log.close();
  });

  it('cuts a torn tail on restart and keeps appending after it', async () => {
    const log = PartitionLog.open(dir, BIG, clock);
    appendValues(log, ['a', 'b']);
    appendValues(log, ['c']);
    log.close();
    const file = path.join(dir, `${'0'.repeat(20)}.log`);
    const whole = fs.statSync(file).size;
    // Half of a third batch, as a crash in the middle of a write leaves it.
    const third = buildBatch(['torn', 'tail']);
    third.writeBigInt64BE(3n, 0);
    fs.appendFileSync(file, third.subarray(0, 30));
    const again = PartitionLog.open(dir, BIG, clock);
    expect(again.nextOffset).toBe(3);
    expect(fs.statSync(file).size).toBe(whole);
    expect(appendValues(again, ['d'])).toBe(3);
    expect(await readBack(again)).toEqual([
      [0, 2],
      [2, 1],
      [3, 1],
    ]);
    again.close();
  });

  it('drops a last batch whose CRC does not match', () => {
    const log = PartitionLog.open(dir, BIG, clock);
    appendValues(log, ['a']);
    appendValues(log, ['b']);
    log.close();
    const file = path.join(dir, `${'0'.repeat(20)}.log`);
    const buf = fs.readFileSync(file);
    buf[buf.length - 2] = (buf[buf.length - 2] as number) ^ 0x55;
    fs.writeFileSync(file, buf);
    const again = PartitionLog.open(dir, BIG, clock);
    expect(again.nextOffset).toBe(1);
    again.close();
  });

  it('rolls segments by size and by time, and rebuilds a lost or damaged index', async () => {
    const log = PartitionLog.open(dir, { ...BIG, segmentBytes: 200 }, clock);
    for (let i = 0; i < 6; i++) appendValues(log, [`value-${i}-${'x'.repeat(60)}`]);
    const bySize = log.segmentNames().length;
    expect(bySize).toBeGreaterThan(2);
    log.config = { ...log.config, segmentBytes: 1 << 30, segmentMs: 1000 };
    now += 5000;
    appendValues(log, ['after a while']);
    expect(log.segmentNames().length).toBe(bySize + 1);
    const before = await readBack(log);
    log.close();
    const names = log.segmentNames();
    fs.rmSync(path.join(dir, `${names[0]}.index`));
    fs.truncateSync(path.join(dir, `${names[1]}.index`), 5);
    const again = PartitionLog.open(dir, { ...BIG, segmentBytes: 200 }, clock);
    expect(await readBack(again)).toEqual(before);
    expect(again.nextOffset).toBe(7);
    again.close();
  });

  it('applies retention by size and time and moves the log start offset', async () => {
    const log = PartitionLog.open(dir, { ...BIG, segmentBytes: 150 }, clock);
    for (let i = 0; i < 8; i++) appendValues(log, [`v${i}-${'y'.repeat(60)}`], 1000 + i);
    const segments = log.segmentNames().length;
    log.config = { ...log.config, retentionBytes: 400 };
    expect(log.enforceRetention()).toBeGreaterThan(0);
    expect(log.size).toBeLessThanOrEqual(400 + 150);
    expect(log.logStartOffset).toBeGreaterThan(0);
    const start = log.logStartOffset;
    expect((await readBack(log, start))[0]?.[0]).toBe(start);
    log.config = { ...log.config, retentionBytes: -1, retentionMs: 10_000 };
    now = 1000 + 20_000;
    log.enforceRetention();
    expect(log.segmentNames().length).toBeLessThan(segments);
    expect(log.logStartOffset).toBe(8);
    expect(await log.read(8, 1000)).toBeNull();
    log.close();
    // The start offset survives a restart.
    const again = PartitionLog.open(dir, BIG, clock);
    expect(again.logStartOffset).toBe(8);
    expect(again.nextOffset).toBe(8);
    again.close();
  });

  it('starts a read at the next batch when the offset falls in a gap left by dropped batches', async () => {
    const log = PartitionLog.open(dir, BIG, clock);
    // Batches at 0-1 and 5-6 with offsets 2-4 missing, as compaction leaves them.
    const a = buildBatch(['a', 'b'], { timestamp: 1 });
    const b = buildBatch(['c', 'd'], { timestamp: 2 });
    const ha = checkBatch(a, 0);
    const hb = checkBatch(b, 0);
    if (typeof ha === 'string' || typeof hb === 'string') throw new Error('bad test batch');
    // Written through the background path and awaited, so no write of this log is still in
    // flight (one would put the original bytes back over the edit below).
    await log.append(a, [{ at: 0, header: ha }]).written;
    await log.append(b, [{ at: 0, header: { ...hb, lastOffsetDelta: 1 } }]).written;
    // Re-open over a log whose second batch claims base offset 5.
    log.close();
    const file = path.join(dir, `${'0'.repeat(20)}.log`);
    const raw = fs.readFileSync(file);
    raw.writeBigInt64BE(5n, a.length);
    fs.writeFileSync(file, raw);
    fs.rmSync(path.join(dir, `${'0'.repeat(20)}.index`));
    const again = PartitionLog.open(dir, BIG, clock);
    expect(again.nextOffset).toBe(7);
    expect((await readBack(again, 3))[0]).toEqual([5, 2]);
    expect((await readBack(again, 1))[0]).toEqual([0, 2]);
    again.close();
  });

  it('remembers idempotent producers across segment rolls and restarts', () => {
    const log = PartitionLog.open(dir, BIG, clock);
    const append = (b: Buffer) => {
      const h = checkBatch(b, 0);
      if (typeof h === 'string') throw new Error(h);
      const offset = log.appendSync(b, [{ at: 0, header: h }]);
      log.producers.record(h.producerId, h.producerEpoch, h.baseSequence, h.recordCount, offset);
      return offset;
    };
    append(buildBatch(['a', 'b'], { producerId: 7n, epoch: 0, baseSequence: 0 }));
    log.roll(); // producer 7 now lives only in a closed segment
    append(buildBatch(['c'], { producerId: 8n, epoch: 0, baseSequence: 0 }));
    log.close(); // a crash: no clean-stop snapshot
    const again = PartitionLog.open(dir, BIG, clock);
    expect(again.producers.check(7n, 0, 0, 2)).toEqual({ kind: 'duplicate', baseOffset: 0 });
    expect(again.producers.check(8n, 0, 0, 1)).toEqual({ kind: 'duplicate', baseOffset: 2 });
    expect(again.producers.check(7n, 0, 5, 1)).toEqual({ kind: 'reject', code: 45 });
    again.flush(); // a clean stop writes a snapshot that covers the active segment too
    again.close();
    const third = PartitionLog.open(dir, BIG, clock);
    expect(third.producers.check(8n, 0, 0, 1)).toEqual({ kind: 'duplicate', baseOffset: 2 });
    expect(third.producers.entries().find(([id]) => id === 8n)?.[1].batches.length).toBe(1);
    third.close();
  });

  it('finds offsets by timestamp', () => {
    const log = PartitionLog.open(dir, BIG, clock);
    appendValues(log, ['a', 'b'], 100);
    appendValues(log, ['c'], 200);
    appendValues(log, ['d'], 300);
    expect(log.offsetForTimestamp(150)).toEqual({ offset: 2, timestamp: 200 });
    expect(log.offsetForTimestamp(300)).toEqual({ offset: 3, timestamp: 300 });
    expect(log.offsetForTimestamp(50)).toEqual({ offset: 0, timestamp: 100 });
    expect(log.offsetForTimestamp(301)).toBeNull();
    log.close();
  });
});
