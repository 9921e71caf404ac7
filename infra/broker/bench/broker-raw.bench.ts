/**
 * The brokers' own capacity, without kafkajs as the bound: a thin client
 * sends one pre-built record batch (1000 records, CRC-32C set) over and over
 * as Produce v7 requests with acks=all, four in flight on one connection,
 * then reads the topic back with Fetch v11 requests of 8 MiB, checking that
 * each batch comes back at the next offset with the bytes that were sent
 * (one memcmp per batch, inside the timing for both sides alike). The same
 * bytes go to both brokers. Used by
 * broker.bench.ts (BENCH_RAW=0 leaves it out).
 */
import net from 'node:net';
import { Reader } from '../src/protocol/reader.js';
import { Writer } from '../src/protocol/writer.js';
import { buildBatch } from '../test/broker/raw-client.js';

const IN_FLIGHT = 4;
const FETCH_BYTES = 8 << 20;

/** Figures of one raw run. */
export interface RawFigures {
  produceRecordsPerSec: number;
  consumeRecordsPerSec: number;
}

/** One connection that sends request frames and hands back response bodies in order. */
class Connection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly waiting: Array<(body: Buffer) => void> = [];
  private correlation = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.buffered += d.length;
      this.deliver();
    });
  }

  static open(broker: string): Promise<Connection> {
    const [host, port] = broker.split(':') as [string, string];
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port: Number(port) }, () => resolve(new Connection(s)));
      s.once('error', reject);
    });
  }

  private deliver(): void {
    while (this.buffered >= 4) {
      let head = this.chunks[0] as Buffer;
      if (head.length < 4) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      const size = head.readInt32BE(0);
      if (this.buffered < 4 + size) return;
      const all = this.chunks.length === 1 ? head : Buffer.concat(this.chunks, this.buffered);
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.waiting.shift()?.(all.subarray(8, 4 + size)); // after the correlation id
    }
  }

  request(apiKey: number, version: number, body: (w: Writer) => void): Promise<Reader> {
    const w = new Writer();
    w.int16(apiKey)
      .int16(version)
      .int32(++this.correlation)
      .nullableString('raw-bench');
    body(w);
    const size = Buffer.alloc(4);
    size.writeInt32BE(w.length);
    return new Promise((resolve) => {
      this.waiting.push((b) => resolve(new Reader(b)));
      this.socket.cork();
      this.socket.write(size);
      for (const c of w.finish()) this.socket.write(c);
      this.socket.uncork();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Raw produce then raw fetch of `batches` batches on an existing one-partition topic. */
export async function rawRun(
  broker: string,
  topic: string,
  recordSize: number,
  batches: number,
): Promise<RawFigures> {
  const batch = buildBatch(new Array<string>(1000).fill('x'.repeat(recordSize)), { timestamp: Date.now() });
  const c = await Connection.open(broker);
  try {
    let sent = 0;
    const started = process.hrtime.bigint();
    const lane = async () => {
      while (sent < batches) {
        sent++;
        const r = await c.request(0, 7, (w) => {
          w.nullableString(null).int16(-1).int32(30_000);
          w.array([topic], (w, t) => {
            w.string(t);
            w.array([0], (w, p) => w.int32(p).bytes(batch));
          });
        });
        r.int32(); // one topic
        r.string();
        r.int32(); // one partition
        r.int32();
        const error = r.int16();
        if (error !== 0) throw new Error(`produce error ${error}`);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    const produceSec = Number(process.hrtime.bigint() - started) / 1e9;

    const total = batches * 1000;
    let offset = 0;
    const t1 = process.hrtime.bigint();
    while (offset < total) {
      const r = await c.request(1, 11, (w) => {
        w.int32(-1).int32(500).int32(1).int32(FETCH_BYTES).int8(0).int32(0).int32(-1);
        w.array([topic], (w, t) => {
          w.string(t);
          w.array([0], (w, p) => w.int32(p).int32(-1).int64(offset).int64(-1).int32(FETCH_BYTES));
        });
        w.int32(0).string('');
      });
      r.int32(); // throttle
      const error = r.int16();
      r.int32(); // session
      if (error !== 0) throw new Error(`fetch error ${error}`);
      r.int32(); // topics
      r.string();
      r.int32(); // partitions
      r.int32();
      const perr = r.int16();
      if (perr !== 0) throw new Error(`fetch partition error ${perr}`);
      r.int64();
      r.int64();
      r.int64();
      const aborted = r.int32();
      for (let i = 0; i < aborted; i++) {
        r.int64();
        r.int64();
      }
      r.int32(); // preferred replica
      const records = r.nullableBytes();
      if (records === null || records.length === 0) throw new Error(`no records at offset ${offset}`);
      for (let at = 0; at + 61 <= records.length; ) {
        const len = records.readInt32BE(at + 8);
        if (at + 12 + len > records.length) break; // a partial batch at the end
        // Each batch must be the one sent, at the next offset: the base offset and the
        // partition leader epoch are the broker's to set, every byte from the magic on is ours.
        const base = Number(records.readBigInt64BE(at));
        if (base !== offset) throw new Error(`batch at offset ${base} where ${offset} was due`);
        if (
          12 + len !== batch.length ||
          records.compare(batch, 16, batch.length, at + 16, at + 12 + len) !== 0
        )
          throw new Error(`batch at offset ${base} differs from the one produced`);
        offset = base + records.readInt32BE(at + 23) + 1;
        at += 12 + len;
      }
    }
    const consumeSec = Number(process.hrtime.bigint() - t1) / 1e9;
    if (offset !== total) throw new Error(`read up to offset ${offset}, produced ${total} records`);
    return { produceRecordsPerSec: total / produceSec, consumeRecordsPerSec: total / consumeSec };
  } finally {
    c.close();
  }
}
