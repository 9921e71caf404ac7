import fs from 'node:fs';
import zlib from 'node:zlib';
import { decompressFrameSync } from 'lz4-napi';
import snappy from 'snappy';
import * as zstd from 'zstd-napi';
import { BrokerError } from '../errors.js';
import { crc32c } from '../protocol/crc32c.js';
import type { PartitionLog } from './partition-log.js';
import { BATCH_HEADER_SIZE, checkBatch, isTransactionalOrControl } from './record-batch.js';
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

interface RecordRef {
  /** The record's bytes, length prefix included, as they sit in the batch. */
  bytes: Buffer;
  offsetDelta: number;
  key: string | null;
  valueIsNull: boolean;
}

function varint(buf: Buffer, at: number): [number, number] {
  let shift = 0;
  let raw = 0;
  let i = at;
  for (;;) {
    if (i >= buf.length || shift > 63) throw new BrokerError('CORRUPT_SEGMENT', `varint at ${at}`);
    const b = buf[i++] as number;
    raw += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  // Zigzag decoding without 32-bit overflow.
  const value = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  return [value, i];
}

function decompress(codec: number, data: Buffer): Buffer {
  switch (codec) {
    case 0:
      return data;
    case 1:
      return zlib.gunzipSync(data);
    case 2: {
      const magic = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
      if (data.length < 16 || !data.subarray(0, 8).equals(magic))
        return snappy.uncompressSync(data, { asBuffer: true }) as Buffer;
      const parts: Buffer[] = [];
      for (let at = 16; at + 4 <= data.length; ) {
        const len = data.readInt32BE(at);
        parts.push(snappy.uncompressSync(data.subarray(at + 4, at + 4 + len), { asBuffer: true }) as Buffer);
        at += 4 + len;
      }
      return Buffer.concat(parts);
    }
    case 3:
      return decompressFrameSync(data);
    case 4:
      return zstd.decompress(data);
    default:
      throw new BrokerError('CORRUPT_SEGMENT', `compression codec ${codec}`);
  }
}

/** The records of one batch (decompressed when needed). */
export function readRecords(batch: Buffer): RecordRef[] {
  const count = batch.readInt32BE(57);
  const codec = batch.readInt16BE(21) & 7;
  const body = decompress(codec, batch.subarray(BATCH_HEADER_SIZE));
  const out: RecordRef[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const [len, start] = varint(body, at);
    const end = start + len;
    let p = start + 1; // attributes
    [, p] = varint(body, p); // timestamp delta
    const [offsetDelta, p2] = varint(body, p);
    const [keyLen, p3] = varint(body, p2);
    const key = keyLen < 0 ? null : body.toString('latin1', p3, p3 + keyLen);
    const [valueLen] = varint(body, p3 + Math.max(0, keyLen));
    out.push({ bytes: body.subarray(at, end), offsetDelta, key, valueIsNull: valueLen < 0 });
    at = end;
  }
  return out;
}

/** A new uncompressed batch with the header of `batch` and only `records`. */
function rebuildBatch(batch: Buffer, records: RecordRef[]): Buffer {
  const body = Buffer.concat(records.map((r) => r.bytes));
  const out = Buffer.alloc(BATCH_HEADER_SIZE + body.length);
  batch.copy(out, 0, 0, BATCH_HEADER_SIZE);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt16BE(batch.readInt16BE(21) & ~7, 21); // no compression
  out.writeInt32BE(records.length, 57);
  body.copy(out, BATCH_HEADER_SIZE);
  out.writeUInt32BE(crc32c(out, 21), 17);
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
