import fs from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LogConfig, PartitionLog } from '../../src/log/partition-log.js';
import { checkBatch } from '../../src/log/record-batch.js';
import { Segment } from '../../src/log/segment.js';
import type { FileRange, ResponsePart } from '../../src/protocol/writer.js';
import { SEND_CHUNK, sendParts } from '../../src/send.js';
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

  it('stops and releases when the client goes away in the middle of a large answer', async () => {
    const file = path.join(dir, 'large');
    fs.writeFileSync(file, Buffer.alloc(24 * SEND_CHUNK, 5));
    const fd = fs.openSync(file, 'r');
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    const client = net.connect(port, '127.0.0.1');
    client.once('data', () => client.destroy());
    const sending = await accepted;
    sending.on('error', () => {});
    let releases = 0;
    try {
      const failure = await sendParts(sending, [
        Buffer.from('head'),
        { fd, position: 0, length: 24 * SEND_CHUNK, release: () => releases++ },
      ]);
      expect(failure).not.toBeNull();
      expect(releases).toBe(1);
    } finally {
      sending.destroy();
      server.close();
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

/** After a moment, descriptor `fd` is closed: the number is invalid, or already reused by some other file. */
async function expectClosed(fd: number, inode: number): Promise<void> {
  await new Promise((r) => setTimeout(r, 30));
  let after: number | null = null;
  try {
    after = fs.fstatSync(fd).ino;
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('EBADF');
  }
  expect(after).not.toBe(inode);
}

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
      log.appendSync(buf, [{ at: 0, header: h }]);
      now++;
    }
    for (const [offset, max] of [
      [0, 1 << 20],
      [2, 1],
      [3, 200],
    ] as const) {
      const [range, ...more] = log.slice(offset, max);
      const read = await log.read(offset, max);
      if (range === undefined || read === null) throw new Error(`nothing at ${offset}`);
      expect(more).toEqual([]);
      const bytes = Buffer.alloc(range.length);
      fs.readSync(range.fd, bytes, 0, range.length, range.position);
      expect(bytes.equals(read)).toBe(true);
      range.release();
    }
    expect(log.slice(6, 1 << 20)).toEqual([]);
    log.close();
  });

  it('bounds a slice by maxBytes at batch boundaries, never below one whole batch', () => {
    const log = PartitionLog.open(dir, BIG, () => 1000);
    const sizes: number[] = [];
    for (let i = 0; i < 30; i++) {
      const buf = buildBatch(['x'.repeat(10 + ((i * 37) % 200))], { timestamp: 1000 });
      const h = checkBatch(buf, 0);
      if (typeof h === 'string') throw new Error(h);
      log.appendSync(buf, [{ at: 0, header: h }]);
      sizes.push(buf.length);
    }
    for (let from = 0; from < 30; from++) {
      // Include limits that fall exactly on a batch boundary and one byte either side of it.
      const exact: number[] = [];
      for (let k = from, sum = 0; k < Math.min(30, from + 4); k++) {
        sum += sizes[k] as number;
        exact.push(sum - 1, sum, sum + 1);
      }
      for (const max of [1, 100, 250, 500, 1000, 2500, 1 << 20, ...exact]) {
        // Expected: whole batches from `from` while the total stays within max, at least one.
        let want = sizes[from] as number;
        for (let j = from + 1; j < 30 && want + (sizes[j] as number) <= max; j++) want += sizes[j] as number;
        const ranges = log.slice(from, max);
        expect(ranges.length).toBe(1);
        expect(ranges[0]?.length, `from ${from} max ${max}`).toBe(want);
        for (const r of ranges) r.release();
      }
    }
    log.close();
  });

  it('continues a slice into the next segments when it reaches the end of one', () => {
    const log = PartitionLog.open(dir, { ...BIG, segmentBytes: 400 }, () => 1000);
    const batches: Buffer[] = [];
    for (let i = 0; i < 12; i++) {
      const buf = buildBatch([String(i).padStart(2, '0').repeat(30)], { timestamp: 1000 });
      const h = checkBatch(buf, 0);
      if (typeof h === 'string') throw new Error(h);
      log.appendSync(buf, [{ at: 0, header: h }]);
      batches.push(Buffer.from(buf));
    }
    expect(log.segmentNames().length).toBeGreaterThan(3);
    const bytesOf = (ranges: FileRange[]) =>
      Buffer.concat(
        ranges.map((r) => {
          const b = Buffer.alloc(r.length);
          fs.readSync(r.fd, b, 0, r.length, r.position);
          r.release();
          return b;
        }),
      );
    const all = Buffer.concat(batches);
    // Everything from offset 0, across every segment: the twelve batches in order.
    const whole = log.slice(0, 1 << 20);
    expect(whole.length).toBe(log.segmentNames().length);
    const got = bytesOf(whole);
    expect(got.length).toBe(all.length);
    const offsets: number[] = [];
    for (let at = 0; at < got.length; ) {
      const h = checkBatch(got, at);
      if (typeof h === 'string') throw new Error(h);
      offsets.push(h.baseOffset);
      at += h.size;
    }
    expect(offsets).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // A budget that ends inside a later segment stops at a batch boundary there.
    const size = batches[0]?.length as number;
    const some = log.slice(1, size * 5 + 10);
    expect(bytesOf(some).length).toBe(size * 5);
    // From the middle of the last segment: only what is left.
    expect(bytesOf(log.slice(11, 1 << 20)).length).toBe(size);
    log.close();
  });

  it('keeps a closed segment (topic deleted, broker stopping) open until its ranges are released', async () => {
    const seg = Segment.create(dir, 0, 1000);
    const buf = buildBatch(['a'], { timestamp: 1000 });
    const h = checkBatch(buf, 0);
    if (typeof h === 'string') throw new Error(h);
    seg.append(buf, [{ baseOffset: 0, at: 0, lastOffset: h.lastOffsetDelta, maxTimestamp: 1000 }]);
    const range = seg.fileRange(0, buf.length);
    const inode = fs.fstatSync(range.fd).ino;
    seg.close();
    expect(fs.fstatSync(range.fd).ino).toBe(inode);
    range.release();
    await expectClosed(range.fd, inode);
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
    await expectClosed(range.fd, inode);
  });
});
