import fs from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LogConfig, PartitionLog } from '../../src/broker/log/partition-log.js';
import { checkBatch } from '../../src/broker/log/record-batch.js';
import { Segment } from '../../src/broker/log/segment.js';
import type { FileRange, ResponsePart } from '../../src/broker/protocol/writer.js';
import { SEND_CHUNK, sendParts } from '../../src/broker/send.js';
import { buildBatch } from './raw-client.js';

/** A connected socket pair: what `sendParts` writes on `a` arrives on `b`. */
async function socketPair(): Promise<{ a: net.Socket; received: () => Promise<Buffer>; close(): void }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const a = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => a.once('connect', () => r()));
  const b = await accepted;
  const chunks: Buffer[] = [];
  b.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<Buffer>((r) => b.once('end', () => r(Buffer.concat(chunks))));
  return {
    a,
    received: () => {
      a.end();
      return ended;
    },
    close: () => {
      a.destroy();
      b.destroy();
      server.close();
    },
  };
}

describe('sending answers with file ranges', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(tmpdir(), 'send-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sends buffers and multi-chunk file ranges byte for byte, in order, releasing each range once', async () => {
    const data = Buffer.alloc(3 * SEND_CHUNK + 12345);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >>> 9)) & 0xff;
    const file = path.join(dir, 'data');
    fs.writeFileSync(file, data);
    const fd = fs.openSync(file, 'r');
    const released: string[] = [];
    const range = (name: string, position: number, length: number): FileRange => ({
      fd,
      position,
      length,
      release: () => released.push(name),
    });
    const pair = await socketPair();
    try {
      const parts: ResponsePart[] = [
        Buffer.from('head'),
        range('big', 7, data.length - 7),
        Buffer.from('mid'),
        range('small', 100, 50),
        range('empty', 0, 0),
        Buffer.from('tail'),
      ];
      expect(await sendParts(pair.a, parts)).toBeNull();
      const got = await pair.received();
      const want = Buffer.concat([
        Buffer.from('head'),
        data.subarray(7),
        Buffer.from('mid'),
        data.subarray(100, 150),
        Buffer.from('tail'),
      ]);
      expect(got.length).toBe(want.length);
      expect(got.equals(want)).toBe(true);
      expect(released).toEqual(['big', 'small', 'empty']);
    } finally {
      pair.close();
      fs.closeSync(fd);
    }
  });

  it('reports a range the file cannot fill and releases the ranges after it', async () => {
    const file = path.join(dir, 'short');
    fs.writeFileSync(file, Buffer.alloc(1000, 1));
    const fd = fs.openSync(file, 'r');
    const released: string[] = [];
    const pair = await socketPair();
    try {
      const parts: ResponsePart[] = [
        Buffer.from('head'),
        { fd, position: 500, length: 2000, release: () => released.push('short') },
        { fd, position: 0, length: 10, release: () => released.push('after') },
      ];
      const failure = await sendParts(pair.a, parts);
      expect(failure).toMatch(/ended before/);
      expect(released).toEqual(['short', 'after']);
    } finally {
      pair.close();
      fs.closeSync(fd);
    }
  });
});

describe('segment file ranges', () => {
  const BIG: LogConfig = { segmentBytes: 1 << 30, segmentMs: 1e12, retentionMs: -1, retentionBytes: -1 };
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(tmpdir(), 'range-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('slices the same whole batches that a read returns', async () => {
    let now = 1000;
    const log = PartitionLog.open(dir, BIG, () => now);
    for (let i = 0; i < 6; i++) {
      const buf = buildBatch([`value-${i}`.repeat(10)], { timestamp: now });
      const h = checkBatch(buf, 0);
      if (typeof h === 'string') throw new Error(h);
      log.append(buf, [{ at: 0, header: h }]);
      now++;
    }
    for (const [offset, max] of [
      [0, 1 << 20],
      [2, 1],
      [3, 200],
    ] as const) {
      const range = log.slice(offset, max);
      const read = await log.read(offset, max);
      if (range === null || read === null) throw new Error(`nothing at ${offset}`);
      const bytes = Buffer.alloc(range.length);
      fs.readSync(range.fd, bytes, 0, range.length, range.position);
      expect(bytes.equals(read)).toBe(true);
      range.release();
    }
    expect(log.slice(6, 1 << 20)).toBeNull();
    log.close();
  });

  it('keeps a deleted segment open while a range of it is out, and closes it at the release', async () => {
    const seg = Segment.create(dir, 0, 1000);
    const buf = buildBatch(['a', 'b', 'c'], { timestamp: 1000 });
    const h = checkBatch(buf, 0);
    if (typeof h === 'string') throw new Error(h);
    seg.append(buf, [{ baseOffset: 0, at: 0, lastOffset: h.lastOffsetDelta, maxTimestamp: 1000 }]);
    const range = seg.fileRange(0, buf.length);
    seg.delete(0);
    await new Promise((r) => setTimeout(r, 30));
    const back = Buffer.alloc(buf.length);
    fs.readSync(range.fd, back, 0, back.length, 0);
    expect(back.equals(buf)).toBe(true);
    const inode = fs.fstatSync(range.fd).ino;
    range.release();
    range.release(); // a second release changes nothing
    await new Promise((r) => setTimeout(r, 30));
    // Closed: the number is invalid, or already reused by some other file.
    let after: number | null = null;
    try {
      after = fs.fstatSync(range.fd).ino;
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('EBADF');
    }
    expect(after).not.toBe(inode);
  });
});
