import fs from 'node:fs';
import { crc32c } from '@promstream/storage/checksum';
import type { PartitionLog } from './partition-log.js';
import { BATCH_HEADER_SIZE, checkBatch, isTransactionalOrControl } from './record-batch.js';
import { type RecordRef, readRecords } from './records.js';
import { Segment } from './segment.js';

/**
 * Log compaction (`cleanup.policy=compact`): in the closed segments, keep
 * only the newest record of each key. This is the one place the broker
 * decodes records, and only to read keys: a batch whose records all survive
 * stays byte for byte; a batch that loses records is written again,
 * uncompressed, with the surviving records' bytes unchanged. The batch keeps
 * its base offset and last offset delta (as Kafka does), so every surviving
 * record keeps its offset and producer sequence numbers stay meaningful.
 * Tombstones (null values) are removed once older than delete.retention.ms.
 */

/** A new uncompressed batch with the header of `batch` and only `records`. */
function rebuildBatch(batch: Buffer, records: RecordRef[]): Buffer {
  const body = Buffer.concat(records.map((r) => r.bytes));
  const out = Buffer.alloc(BATCH_HEADER_SIZE + body.length);
  batch.copy(out, 0, 0, BATCH_HEADER_SIZE);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt16BE(batch.readInt16BE(21) & ~7, 21); // no compression
  out.writeInt32BE(records.length, 57);
  body.copy(out, BATCH_HEADER_SIZE);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}

function readAll(seg: Segment): Buffer {
  const buf = Buffer.alloc(seg.size);
  let got = 0;
  while (got < seg.size) {
    const n = fs.readSync(seg.fd, buf, got, seg.size - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * Compacts the closed segments of a partition. Returns the number of
 * records removed. The active segment is read (its keys count as newer) but
 * never rewritten. It runs synchronously, so no append, roll or retention
 * can change the segment list halfway; compacted topics are small tables.
 */
export function compactPartition(log: PartitionLog, deleteRetentionMs: number, now: number): number {
  const closed = log.closedSegments();
  if (closed.length === 0) return 0;
  const latest = new Map<string, number>();
  const all = [...closed, log.activeSegment];
  const contents: Buffer[] = [];
  for (const seg of all) {
    const buf = readAll(seg);
    contents.push(buf);
    for (let at = 0; at < buf.length; ) {
      const h = checkBatch(buf, at, false);
      if (typeof h === 'string') break;
      if (!isTransactionalOrControl(h.attributes)) {
        for (const r of readRecords(buf.subarray(at, at + h.size))) {
          if (r.key !== null) latest.set(r.key, h.baseOffset + r.offsetDelta);
        }
      }
      at += h.size;
    }
  }
  let removed = 0;
  const rewritten: Segment[] = [];
  closed.forEach((seg, i) => {
    const buf = contents[i] as Buffer;
    const kept: Buffer[] = [];
    let changed = false;
    for (let at = 0; at < buf.length; ) {
      const h = checkBatch(buf, at, false);
      if (typeof h === 'string') break;
      const batch = buf.subarray(at, at + h.size);
      at += h.size;
      if (isTransactionalOrControl(h.attributes)) {
        kept.push(batch);
        continue;
      }
      const records = readRecords(batch);
      const expired = now - h.maxTimestamp > deleteRetentionMs;
      const survivors = records.filter((r) => {
        if (r.key === null) return true;
        if (latest.get(r.key) !== h.baseOffset + r.offsetDelta) return false;
        return !(r.valueIsNull && expired);
      });
      removed += records.length - survivors.length;
      if (survivors.length === records.length) kept.push(batch);
      else {
        changed = true;
        if (survivors.length > 0) kept.push(rebuildBatch(batch, survivors));
      }
    }
    if (!changed) {
      rewritten.push(seg);
      return;
    }
    // Write the cleaned copy beside the segment, make it durable, then swap it in.
    const cleaned = `${seg.logPath}.cleaned`;
    const fd = fs.openSync(cleaned, 'w');
    const data = Buffer.concat(kept);
    fs.writeSync(fd, data, 0, data.length, 0);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(cleaned, seg.logPath);
    const dir = seg.logPath.slice(0, seg.logPath.lastIndexOf('/'));
    seg.retire(60_000);
    rewritten.push(Segment.open(dir, seg.baseOffset, now, true));
  });
  log.replaceClosed(rewritten);
  return removed;
}
