import zlib from 'node:zlib';
import { decompressFrameSync } from 'lz4-napi';
import snappy from 'snappy';
import * as zstd from 'zstd-napi';
import { BrokerError } from '../errors.js';
import { BATCH_HEADER_SIZE } from './record-batch.js';

/**
 * Reading the records inside a batch. The produce and fetch paths never do
 * this; only compaction (for keys) and ListOffsets by time (for record
 * timestamps) look inside a batch.
 */

/** One record of a batch: where its bytes are and the fields the broker needs. */
export interface RecordRef {
  /** The record's bytes, length prefix included, as they sit in the batch. */
  bytes: Buffer;
  offsetDelta: number;
  timestampDelta: number;
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
    const p = start + 1; // attributes
    const [timestampDelta, p1] = varint(body, p);
    const [offsetDelta, p2] = varint(body, p1);
    const [keyLen, p3] = varint(body, p2);
    const key = keyLen < 0 ? null : body.toString('latin1', p3, p3 + keyLen);
    const [valueLen] = varint(body, p3 + Math.max(0, keyLen));
    out.push({ bytes: body.subarray(at, end), offsetDelta, timestampDelta, key, valueIsNull: valueLen < 0 });
    at = end;
  }
  return out;
}
