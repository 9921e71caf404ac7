import net from 'node:net';
import { crc32c } from '@promstream/storage/checksum';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';

/**
 * A bare Kafka-protocol connection for tests: sends one request frame at a
 * time (header v1) and returns the response body after the correlation id.
 * Lets a test send exactly the bytes it means, which no client library does
 * for bad input or for a retried idempotent batch.
 */
export class RawClient {
  private buffered = Buffer.alloc(0);
  private waiting: ((frame: Buffer | null) => void) | null = null;
  private correlation = 0;
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, d]);
      this.deliver();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.(null);
      this.waiting = null;
    });
    socket.on('error', () => {});
  }

  static connect(broker: string): Promise<RawClient> {
    const [host, port] = broker.split(':') as [string, string];
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port: Number(port) }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private deliver(): void {
    if (this.waiting === null || this.buffered.length < 4) return;
    const size = this.buffered.readInt32BE(0);
    if (this.buffered.length < 4 + size) return;
    const frame = this.buffered.subarray(4, 4 + size);
    this.buffered = this.buffered.subarray(4 + size);
    const w = this.waiting;
    this.waiting = null;
    w(frame);
  }

  /** Sends raw bytes as they are (for fuzzing). */
  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits for the next response frame, or null when the broker closes the connection or timeoutMs passes. */
  next(timeoutMs = 10_000): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        resolve(null);
      }, timeoutMs);
      this.waiting = (f) => {
        clearTimeout(timer);
        resolve(f);
      };
      if (this.closed) this.waiting(null);
      else this.deliver();
    });
  }

  /**
   * Sends a request and returns a Reader over the response body (after the
   * correlation id). A flexible request goes with header v2 (tagged fields
   * after the client id), and its response header v1 is read past its tagged
   * fields, except for ApiVersions, whose response header is always v0.
   */
  async request(
    apiKey: number,
    version: number,
    body: (w: Writer) => void,
    flexible = false,
  ): Promise<Reader> {
    const w = new Writer();
    const id = ++this.correlation;
    w.int16(apiKey).int16(version).int32(id).nullableString('raw-test').tags(flexible);
    body(w);
    const chunks = w.finish();
    const size = Buffer.alloc(4);
    size.writeInt32BE(w.length);
    this.socket.write(Buffer.concat([size, ...chunks]));
    const frame = await this.next();
    if (frame === null) throw new Error(`connection closed before the response to api ${apiKey} v${version}`);
    const r = new Reader(frame);
    const got = r.int32();
    if (got !== id) throw new Error(`correlation id ${got}, expected ${id}`);
    r.tags(flexible && apiKey !== 18);
    return r;
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Builds an uncompressed record batch (magic 2) with the given values,
 * producer id, epoch and base sequence, as a producer would send it.
 */
export function buildBatch(
  values: string[],
  options: { producerId?: bigint; epoch?: number; baseSequence?: number; timestamp?: number } = {},
): Buffer {
  const ts = options.timestamp ?? Date.now();
  const records = values.map((v, i) => {
    const value = Buffer.from(v);
    const body = Buffer.concat([
      Buffer.from([0]), // attributes
      varint(0), // timestamp delta
      varint(i), // offset delta
      varint(-1), // key: null
      varint(value.length),
      value,
      varint(0), // headers
    ]);
    return Buffer.concat([varint(body.length), body]);
  });
  const recs = Buffer.concat(records);
  const b = Buffer.alloc(61 + recs.length);
  b.writeBigInt64BE(0n, 0);
  b.writeInt32BE(b.length - 12, 8);
  b.writeInt32BE(-1, 12);
  b.writeInt8(2, 16);
  b.writeInt16BE(0, 21);
  b.writeInt32BE(values.length - 1, 23);
  b.writeBigInt64BE(BigInt(ts), 27);
  b.writeBigInt64BE(BigInt(ts), 35);
  b.writeBigInt64BE(options.producerId ?? -1n, 43);
  b.writeInt16BE(options.epoch ?? -1, 51);
  b.writeInt32BE(options.baseSequence ?? -1, 53);
  b.writeInt32BE(values.length, 57);
  recs.copy(b, 61);
  b.writeUInt32BE(crc32c(b.subarray(21)), 17);
  return b;
}

function varint(n: number): Buffer {
  let z = (n << 1) ^ (n >> 31);
  const out: number[] = [];
  while ((z & ~0x7f) !== 0) {
    out.push((z & 0x7f) | 0x80);
    z >>>= 7;
  }
  out.push(z);
  return Buffer.from(out);
}

/** Produce v7 of one batch to one partition; returns the partition's error code and base offset. */
export async function produceRaw(
  c: RawClient,
  topic: string,
  partition: number,
  batch: Buffer,
  acks = -1,
): Promise<{ errorCode: number; baseOffset: number }> {
  const r = await c.request(0, 7, (w) => {
    w.nullableString(null).int16(acks).int32(10_000);
    w.int32(1).string(topic).int32(1).int32(partition).bytes(batch);
  });
  r.int32(); // topics
  r.string();
  r.int32(); // partitions
  r.int32();
  const errorCode = r.int16();
  const baseOffset = r.int64();
  return { errorCode, baseOffset };
}
