import type net from 'node:net';

/** What the frame reader hands on: each whole frame (size prefix removed), or a size out of bounds. */
export interface FrameSink {
  frame(frame: Buffer): void;
  /** The connection announced a frame of this size; nothing more is read from it. */
  badSize(size: number): void;
}

/** Reads of the scratch buffer; frames longer than this are read straight into their own buffer. */
const SCRATCH_BYTES = 64 << 10;

/**
 * Splits the bytes of a connection into Kafka request frames (int32 size,
 * then that many bytes). Where the runtime allows it, the socket reads into
 * buffers of ours instead of a fresh 64 KiB buffer per read: small frames
 * arrive in one reused scratch buffer and are copied out whole, and the
 * body of a large frame (a produce request of a megabyte, say) is read by
 * the kernel straight into the frame's own buffer, with no copy and no
 * per-read allocation. Per megabyte produced that spares sixteen buffers
 * and a megabyte of copying, and with them most of the broker's garbage
 * collection, which on a small machine competes with the clients for the
 * CPU. Otherwise (`directReads` false) it falls back to 'data' events through
 * the same splitting.
 * Pausing and resuming the socket work the same either way.
 */
export function readFrames(
  socket: net.Socket,
  maxBytes: number,
  sink: FrameSink,
  pool: FramePool | null = null,
  allowDirect = true,
): { directReads: boolean } {
  const parser = new FrameParser(maxBytes, sink, pool);
  if (allowDirect && readDirect(socket, parser)) return { directReads: true };
  socket.on('data', (data: Buffer) => parser.feed(data));
  return { directReads: false };
}

/**
 * Turns on reads into our own buffers: Node supports it (the `onread`
 * option) for sockets it creates itself but has no public switch for an
 * accepted one, so this sets the same fields the option would. Returns
 * false, changing nothing, when they are not where they were looked for.
 */
function readDirect(socket: net.Socket, parser: FrameParser): boolean {
  const symbols = Object.getOwnPropertySymbols(socket);
  const symbol = (name: string) => symbols.find((s) => s.description === name);
  const kBuffer = symbol('kBuffer');
  const kBufferCb = symbol('kBufferCb');
  const kBufferGen = symbol('kBufferGen');
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (b: Uint8Array) => void } })._handle;
  if (kBuffer === undefined || kBufferCb === undefined || kBufferGen === undefined) return false;
  if (typeof handle?.useUserBuffer !== 'function') return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  if (fields[kBuffer] !== null || fields[kBufferCb] !== null || fields[kBufferGen] !== null) return false;
  fields[kBufferGen] = () => parser.nextBuffer();
  fields[kBufferCb] = (nread: number) => parser.received(nread);
  const first = parser.nextBuffer();
  fields[kBuffer] = first;
  handle.useUserBuffer(first);
  // Bytes read before the switch (there should be none) still come as events.
  socket.on('data', (data: Buffer) => parser.feed(data));
  return true;
}

/** Frame splitting over either chunks handed in (`feed`) or reads into its own buffers. */
export class FrameParser {
  private readonly scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  /** Bytes of an unfinished frame at the start of scratch. */
  private carry = 0;
  /** The large frame being read straight into its buffer, and how much of it has arrived. */
  private big: Buffer | null = null;
  private filled = 0;
  private dead = false;

  constructor(
    private readonly maxBytes: number,
    private readonly sink: FrameSink,
    private readonly pool: FramePool | null = null,
  ) {}

  /** Where the next read goes. */
  nextBuffer(): Buffer {
    return this.big !== null ? this.big.subarray(this.filled) : this.scratch.subarray(this.carry);
  }

  /** `n` bytes were read into the buffer nextBuffer gave. */
  received(n: number): void {
    if (this.dead) return;
    if (this.big !== null) {
      this.filled += n;
      if (this.filled === this.big.length) {
        const frame = this.big;
        this.big = null;
        this.filled = 0;
        this.sink.frame(frame);
      }
      return;
    }
    this.split(this.carry + n);
  }

  /** Bytes that came as a chunk (the fallback path): copied through the same buffers. */
  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.dead) {
      const into = this.nextBuffer();
      const n = chunk.copy(into, 0, at);
      at += n;
      this.received(n);
    }
  }

  /** Cuts the frames out of scratch[0, end); keeps an unfinished one at the front. */
  private split(end: number): void {
    let at = 0;
    while (end - at >= 4) {
      const size = this.scratch.readInt32BE(at);
      if (size < 8 || size > this.maxBytes) {
        this.dead = true;
        this.sink.badSize(size);
        return;
      }
      if (end - at - 4 >= size) {
        const frame = Buffer.allocUnsafe(size);
        this.scratch.copy(frame, 0, at + 4, at + 4 + size);
        at += 4 + size;
        this.sink.frame(frame);
        continue;
      }
      if (4 + size > SCRATCH_BYTES) {
        // Too large for scratch: the rest of it is read straight into its own buffer.
        this.big = this.pool?.take(size) ?? Buffer.allocUnsafeSlow(size);
        this.filled = this.scratch.copy(this.big, 0, at + 4, end);
        at = end;
      }
      break;
    }
    this.carry = end - at;
    if (this.carry > 0 && at > 0) this.scratch.copy(this.scratch, 0, at, end);
  }
}

/** Smallest buffer the pool hands out: frames up to the scratch size never come from it. */
const POOL_MIN = SCRATCH_BYTES;
/** Larger frames get a buffer of their exact size, never pooled (rounding up would waste up to half). */
const POOL_MAX = 16 << 20;

/**
 * Buffers for large frames, reused once a handler has released its request
 * (see RequestContext.release): a megabyte allocated per produce request
 * is what drives the broker's collections. Capacities are powers of two up
 * to POOL_MAX; at most maxBytes of free buffers are kept.
 */
export class FramePool {
  private readonly free = new Map<number, Buffer[]>();
  private freeBytes = 0;
  /** Buffers of the pool's own making: only these come back into it. */
  private readonly own = new WeakSet<ArrayBufferLike>();

  constructor(private readonly maxBytes: number) {}

  /** A buffer of exactly `size` bytes, whatever it held before. */
  take(size: number): Buffer {
    if (size > POOL_MAX) return Buffer.allocUnsafeSlow(size);
    let capacity = POOL_MIN;
    while (capacity < size) capacity *= 2;
    const reused = this.free.get(capacity)?.pop();
    if (reused !== undefined) {
      this.freeBytes -= capacity;
      return reused.subarray(0, size);
    }
    const fresh = Buffer.allocUnsafeSlow(capacity);
    this.own.add(fresh.buffer);
    return fresh.subarray(0, size);
  }

  /** Takes back a buffer from `take` that nobody reads any more; others are left to the collector. */
  give(frame: Buffer): void {
    const whole = frame.buffer;
    if (!this.own.has(whole) || frame.byteOffset !== 0) return;
    const capacity = whole.byteLength;
    if (this.freeBytes + capacity > this.maxBytes) return;
    const list = this.free.get(capacity) ?? [];
    if (list.some((b) => b.buffer === whole)) return;
    list.push(Buffer.from(whole, 0, capacity));
    this.free.set(capacity, list);
    this.freeBytes += capacity;
  }
}
