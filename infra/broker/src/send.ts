import fs from 'node:fs';
import type net from 'node:net';
import type { FileRange, ResponsePart } from './protocol/writer.js';

/** Bytes read from a segment per step while a file range is being sent. */
export const SEND_CHUNK = 1 << 20;
/** Chunk buffers kept for reuse once the socket has taken their bytes. */
const POOL_MAX = 16;
const pool: Buffer[] = [];

function take(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(SEND_CHUNK);
}

function give(b: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(b);
}

function isFile(p: ResponsePart): p is FileRange {
  return !Buffer.isBuffer(p);
}

/**
 * Reads up to SEND_CHUNK bytes at position into a pooled buffer. Never
 * rejects (a read runs ahead and may fail while nobody awaits it yet): a
 * failure comes back as the error.
 */
function readChunk(
  fd: number,
  position: number,
  length: number,
): Promise<{ buf: Buffer; n: number } | Error> {
  const buf = take();
  return new Promise((resolve) => {
    fs.read(fd, buf, 0, Math.min(length, SEND_CHUNK), position, (err, n) => {
      if (err) {
        give(buf);
        resolve(err);
      } else resolve({ buf, n });
    });
  });
}

/** Resolves when the socket has handed its queue to the kernel, or is gone. */
function writable(socket: net.Socket): Promise<void> {
  if (!socket.writableNeedDrain || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/**
 * Writes one response, given as buffers and file ranges, to the socket.
 * Buffers up to the first file range go out corked with its first chunk,
 * in one writev. A file range is read a chunk at a time into reused
 * buffers, the next chunk read while the previous one is being sent, and
 * the next write waits until the socket has drained, so one connection
 * holds at most a few chunks however large the answer. Every file range is
 * released exactly once. Resolves to an error message when the response
 * could not be completed (a read failed or came up short: the frame length
 * already promised those bytes, so the caller must close the connection).
 */
export async function sendParts(socket: net.Socket, parts: ResponsePart[]): Promise<string | null> {
  let corked = true;
  socket.cork();
  const uncork = () => {
    if (corked) socket.uncork();
    corked = false;
  };
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as ResponsePart;
    if (!isFile(part)) {
      socket.write(part);
      continue;
    }
    const failure = await sendRange(socket, part, uncork);
    part.release();
    if (failure !== null) {
      uncork();
      dropParts(parts.slice(i + 1));
      return failure;
    }
  }
  uncork();
  return null;
}

/** Sends one file range (see sendParts); the caller releases it. */
async function sendRange(socket: net.Socket, range: FileRange, uncork: () => void): Promise<string | null> {
  const end = range.position + range.length;
  let position = range.position;
  let next = range.length > 0 ? readChunk(range.fd, position, range.length) : null;
  while (next !== null) {
    const got = await next;
    if (got instanceof Error) return `reading a segment for a response: ${got.message}`;
    const { buf, n } = got;
    if (n === 0) {
      give(buf);
      return 'a segment ended before the bytes its index promised';
    }
    position += n;
    // Read ahead while this chunk is being sent.
    next = position < end ? readChunk(range.fd, position, end - position) : null;
    if (socket.destroyed) {
      give(buf);
      const ahead = next === null ? null : await next;
      if (ahead !== null && !(ahead instanceof Error)) give(ahead.buf);
      return 'connection closed while sending';
    }
    socket.write(buf.subarray(0, n), () => give(buf));
    uncork();
    await writable(socket);
  }
  return null;
}

/** Releases the file ranges of a response that will not be sent. */
export function dropParts(parts: ResponsePart[]): void {
  for (const p of parts) if (isFile(p)) p.release();
}
