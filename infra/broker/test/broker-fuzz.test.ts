import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../src/index.js';
import { isFlexible, SUPPORTED_VERSIONS, supports } from '../src/protocol/api-keys.js';
import { Writer } from '../src/protocol/writer.js';
import { buildBatch, RawClient } from './broker/raw-client.js';

/** A small deterministic generator, so a failing case can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/** Valid request bodies to start mutations from, per [apiKey, version]. */
function seeds(): Array<[number, number, Buffer]> {
  const body = (fill: (w: Writer) => void) => {
    const w = new Writer();
    fill(w);
    return Buffer.concat(w.finish());
  };
  const batch = buildBatch(['fuzz-a', 'fuzz-b']);
  return [
    [
      0,
      7,
      body((w) =>
        w.nullableString(null).int16(-1).int32(1000).int32(1).string('fuzz').int32(1).int32(0).bytes(batch),
      ),
    ],
    [
      0,
      3,
      body((w) =>
        w.nullableString(null).int16(1).int32(1000).int32(1).string('fuzz').int32(1).int32(0).bytes(batch),
      ),
    ],
    [
      1,
      11,
      body((w) =>
        w
          .int32(-1)
          .int32(10)
          .int32(1)
          .int32(1 << 20)
          .int8(0)
          .int32(0)
          .int32(-1)
          .int32(1)
          .string('fuzz')
          .int32(1)
          .int32(0)
          .int32(-1)
          .int64(0)
          .int64(0)
          .int32(1 << 20)
          .int32(0)
          .string(''),
      ),
    ],
    [
      1,
      4,
      body((w) =>
        w
          .int32(-1)
          .int32(10)
          .int32(1)
          .int32(1 << 20)
          .int8(0)
          .int32(1)
          .string('fuzz')
          .int32(1)
          .int32(0)
          .int64(0)
          .int32(1 << 20),
      ),
    ],
    [3, 6, body((w) => w.int32(1).string('fuzz').bool(true))],
    [3, 0, body((w) => w.int32(0))],
    [2, 3, body((w) => w.int32(-1).int8(0).int32(1).string('fuzz').int32(1).int32(0).int64(-2))],
    [2, 0, body((w) => w.int32(-1).int32(1).string('fuzz').int32(1).int32(0).int64(-1).int32(1))],
    [
      19,
      3,
      body((w) =>
        w
          .int32(1)
          .string('fuzz-new')
          .int32(1)
          .int16(1)
          .int32(0)
          .int32(1)
          .string('retention.ms')
          .nullableString('1000')
          .int32(100)
          .bool(false),
      ),
    ],
    [
      11,
      5,
      body((w) =>
        w
          .string('fg')
          .int32(10_000)
          .int32(100)
          .string('')
          .nullableString(null)
          .string('consumer')
          .int32(1)
          .string('range')
          .bytes(Buffer.from('meta')),
      ),
    ],
    [
      14,
      3,
      body((w) =>
        w.string('fg').int32(1).string('m').nullableString(null).int32(1).string('m').bytes(Buffer.from('a')),
      ),
    ],
    [12, 3, body((w) => w.string('fg').int32(1).string('m').nullableString(null))],
    [13, 3, body((w) => w.string('fg').int32(1).string('m').nullableString(null))],
    [
      8,
      5,
      body((w) =>
        w
          .string('fg')
          .int32(-1)
          .string('')
          .int32(1)
          .string('fuzz')
          .int32(1)
          .int32(0)
          .int64(1)
          .nullableString(null),
      ),
    ],
    [9, 4, body((w) => w.string('fg').int32(1).string('fuzz').int32(1).int32(0))],
    [10, 2, body((w) => w.string('fg').int8(0))],
    [15, 2, body((w) => w.int32(1).string('fg'))],
    [16, 2, body(() => {})],
    [18, 2, body(() => {})],
    [20, 1, body((w) => w.int32(1).string('fuzz-gone').int32(100))],
    [21, 1, body((w) => w.int32(1).string('fuzz').int32(1).int32(0).int64(0).int32(100))],
    [22, 1, body((w) => w.nullableString(null).int32(1000))],
    [32, 2, body((w) => w.int32(1).int8(2).string('fuzz').int32(-1).bool(false))],
    [37, 1, body((w) => w.int32(1).string('fuzz').int32(2).int32(-1).int32(100).bool(true))],
  ];
}

/** A request body written by `fill`. */
function bodyOf(fill: (w: Writer) => void): Buffer {
  const w = new Writer();
  fill(w);
  return Buffer.concat(w.finish());
}

/** The flexible seeds' topic: one entry of a compact topics array, `fill` writing its partitions. */
function flexTopic(w: Writer, fill: (w: Writer) => void): Writer {
  return w.array(
    ['fuzz'],
    (w, t) => {
      w.string(t, true);
      fill(w);
      w.tags(true);
    },
    true,
  );
}

/** Valid bodies of the flexible versions (compact strings and arrays, tagged fields), per [apiKey, version]. */
function flexibleSeeds(): Array<[number, number, Buffer]> {
  return [...flexibleRecordSeeds(), ...flexibleAdminSeeds(), ...flexibleGroupSeeds()];
}

/** Valid bodies of the flexible versions of Produce, Fetch and ListOffsets. */
function flexibleRecordSeeds(): Array<[number, number, Buffer]> {
  const f = true;
  const body = bodyOf;
  const batch = buildBatch(['fuzz-flex']);
  const topic = flexTopic;
  return [
    [
      0,
      11,
      body((w) =>
        topic(w.nullableString(null, f).int16(-1).int32(1000), (w) =>
          w.array([0], (w, p) => w.int32(p).bytes(batch, f).tags(f), f),
        ).tags(f),
      ),
    ],
    [
      1,
      12,
      body((w) =>
        topic(
          w
            .int32(-1)
            .int32(10)
            .int32(1)
            .int32(1 << 20)
            .int8(0)
            .int32(0)
            .int32(-1),
          (w) =>
            w.array(
              [0],
              (w, p) =>
                w
                  .int32(p)
                  .int32(-1)
                  .int64(0)
                  .int32(-1)
                  .int64(-1)
                  .int32(1 << 20)
                  .tags(f),
              f,
            ),
        )
          .array([], () => {}, f)
          .string('', f)
          .tags(f),
      ),
    ],
    [
      2,
      6,
      body((w) =>
        topic(w.int32(-1).int8(0), (w) =>
          w.array([-1], (w, ts) => w.int32(0).int32(-1).int64(ts).tags(f), f),
        ).tags(f),
      ),
    ],
  ];
}

/** Valid bodies of the flexible versions of the topic, config and group-listing APIs. */
function flexibleAdminSeeds(): Array<[number, number, Buffer]> {
  const f = true;
  const body = bodyOf;
  const topic = flexTopic;
  return [
    [18, 4, body((w) => w.string('fuzz', f).string('1', f).tags(f))],
    [
      3,
      12,
      body((w) =>
        w
          .array(['fuzz'], (w, t) => w.uuid('0'.repeat(32)).string(t, f).tags(f), f)
          .bool(true)
          .bool(false)
          .tags(f),
      ),
    ],
    [
      10,
      4,
      body((w) =>
        w
          .int8(0)
          .array(['fg', 'fh'], (w, k) => w.string(k, f), f)
          .tags(f),
      ),
    ],
    [
      9,
      8,
      body((w) =>
        w
          .array(
            ['fg'],
            (w, g) => topic(w.string(g, f), (w) => w.array([0], (w, p) => w.int32(p), f)).tags(f),
            f,
          )
          .bool(false)
          .tags(f),
      ),
    ],
    [
      15,
      5,
      body((w) =>
        w
          .array(['fg'], (w, g) => w.string(g, f), f)
          .bool(true)
          .tags(f),
      ),
    ],
    [
      16,
      5,
      body((w) =>
        w
          .array(['Stable'], (w, s) => w.string(s, f), f)
          .array([], () => {}, f)
          .tags(f),
      ),
    ],
    [
      19,
      7,
      body((w) =>
        w
          .array(
            ['fuzz-flex'],
            (w, t) => {
              w.string(t, f)
                .int32(1)
                .int16(-1)
                .array([], () => {}, f);
              w.array(
                [['retention.ms', '1000']],
                (w, [k, v]) =>
                  w
                    .string(k ?? '', f)
                    .string(v ?? '', f)
                    .tags(f),
                f,
              );
              w.tags(f);
            },
            f,
          )
          .int32(100)
          .bool(false)
          .tags(f),
      ),
    ],
    [
      32,
      4,
      body((w) =>
        w
          .array(
            ['fuzz'],
            (w, t) =>
              w
                .int8(2)
                .string(t, f)
                .array(null, () => {}, f)
                .tags(f),
            f,
          )
          .bool(false)
          .bool(false)
          .tags(f),
      ),
    ],
  ];
}

/** Valid bodies of the flexible versions of the group and producer-id APIs. */
function flexibleGroupSeeds(): Array<[number, number, Buffer]> {
  const f = true;
  const body = bodyOf;
  const topic = flexTopic;
  return [
    [42, 2, body((w) => w.array(['fg', 'fh'], (w, g) => w.string(g, f), f).tags(f))],
    [
      11,
      9,
      body((w) =>
        w
          .string('fg', f)
          .int32(10_000)
          .int32(100)
          .string('', f)
          .nullableString(null, f)
          .string('consumer', f)
          .array(['range'], (w, p) => w.string(p, f).bytes(Buffer.from('meta'), f).tags(f), f)
          .nullableString('fuzz', f)
          .tags(f),
      ),
    ],
    [
      14,
      5,
      body((w) =>
        w
          .string('fg', f)
          .int32(1)
          .string('m', f)
          .nullableString(null, f)
          .nullableString('consumer', f)
          .nullableString('range', f)
          .array(['m'], (w, m) => w.string(m, f).bytes(Buffer.from('a'), f).tags(f), f)
          .tags(f),
      ),
    ],
    [12, 4, body((w) => w.string('fg', f).int32(1).string('m', f).nullableString(null, f).tags(f))],
    [
      13,
      5,
      body((w) =>
        w
          .string('fg', f)
          .array(['m'], (w, m) => w.string(m, f).nullableString(null, f).nullableString('bye', f).tags(f), f)
          .tags(f),
      ),
    ],
    [
      8,
      9,
      body((w) =>
        topic(w.string('fg', f).int32(-1).string('', f).nullableString(null, f), (w) =>
          w.array([0], (w, p) => w.int32(p).int64(1).int32(-1).nullableString(null, f).tags(f), f),
        ).tags(f),
      ),
    ],
    [22, 4, body((w) => w.nullableString(null, f).int32(1000).int64(-1).int16(-1).tags(f))],
  ];
}

function mutate(body: Buffer, next: () => number): Buffer {
  const pick = Math.floor(next() * 4);
  const out = Buffer.from(body);
  if (pick === 0) return out.subarray(0, Math.floor(next() * out.length)); // truncated
  if (pick === 1) {
    for (let i = 0, n = 1 + Math.floor(next() * 4); i < n && out.length > 0; i++) {
      out[Math.floor(next() * out.length)] = Math.floor(next() * 256);
    }
    return out;
  }
  if (pick === 2 && out.length >= 4) {
    // A length or count field turned into a lie.
    const at = Math.floor(next() * (out.length - 3));
    out.writeInt32BE([-1, -2, 0x7fffffff, 65536, 3][Math.floor(next() * 5)] as number, at);
    return out;
  }
  return Buffer.from(Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256)));
}

/**
 * True when a Produce v3+ frame (client id 'fuzz') asks for acks=0. From v9
 * the header ends in tagged fields (one byte, empty) and the transactional id
 * is a compact string (a varint of its length plus one).
 */
function producesWithoutAck(f: Buffer): boolean {
  if (f.length < 8) return false;
  const flexible = f.readInt16BE(6) >= 9;
  let at = 4 + 14 + (flexible ? 1 : 0); // size, key, version, correlation id, client id 'fuzz', tags
  if (f.length < at + 2) return false;
  if (flexible) {
    let len = 0;
    for (let shift = 0; at < f.length; shift += 7) {
      const b = f[at++] as number;
      len += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
    }
    at += Math.max(0, len - 1);
  } else {
    at += 2 + Math.max(0, f.readInt16BE(at));
  }
  return f.length >= at + 2 && f.readInt16BE(at) === 0;
}

/** A request frame; flexible versions get request header v2 (tagged fields after the client id). */
function frame(apiKey: number, version: number, correlationId: number, body: Buffer): Buffer {
  const w = new Writer();
  w.int16(apiKey).int16(version).int32(correlationId).nullableString('fuzz');
  // A version the broker does not serve keeps header v1: it is refused before the header's end is read.
  w.tags(supports(apiKey, version) && isFlexible(apiKey, version));
  const head = Buffer.concat(w.finish());
  const size = Buffer.alloc(4);
  size.writeInt32BE(head.length + body.length);
  return Buffer.concat([size, head, body]);
}

describe('request decoder fuzz', () => {
  let dir: string;
  let broker: RunningBroker;
  let address: string;
  const internalErrors: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'broker-fuzz-'));
    // Internal errors are logged at level error; the fuzz must produce none, only protocol refusals.
    const logger = pino({ level: 'error' }, { write: (line: string) => internalErrors.push(line) });
    broker = await startBroker({ dataDir: dir, logger, maxRequestBytes: 1 << 20 });
    address = `127.0.0.1:${broker.port}`;
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function alive(): Promise<void> {
    const c = await RawClient.connect(address);
    const r = await c.request(18, 0, () => {});
    expect(r.int16()).toBe(0);
    c.close();
  }

  it('answers or closes on every mutated frame and stays up', async () => {
    // FUZZ_SEED and FUZZ_ROUNDS let a longer or different run be made by hand.
    const next = rng(Number(process.env.FUZZ_SEED ?? 20_261_125));
    const base = [...seeds(), ...flexibleSeeds()];
    let answered = 0;
    let closed = 0;
    for (let round = 0; round < Number(process.env.FUZZ_ROUNDS ?? 1500); round++) {
      const [apiKey, version, body] = base[Math.floor(next() * base.length)] as [number, number, Buffer];
      const c = await RawClient.connect(address);
      const sent = frame(apiKey, version, round, mutate(body, next));
      c.sendRaw(sent);
      // Fetch and JoinGroup may wait on purpose (max wait, rebalance timeout); others answer at once.
      // Produce with acks=0 gets no response at all, as in Kafka.
      const waits =
        apiKey === 1 || apiKey === 11 || apiKey === 14 || (apiKey === 0 && producesWithoutAck(sent));
      const res = await c.next(waits ? 300 : 5000);
      if (res !== null) {
        answered++;
        expect(res.readInt32BE(0)).toBe(round); // the correlation id of this request
      } else if (c.closed) closed++;
      else
        expect(
          waits,
          `api ${apiKey} v${version} neither answered nor closed (round ${round}): ${sent.toString('hex').slice(0, 120)}`,
        ).toBe(true);
      c.close();
      if (round % 250 === 0) await alive();
    }
    expect(answered).toBeGreaterThan(100);
    expect(closed).toBeGreaterThan(100);
    await alive();
    expect(internalErrors).toEqual([]);
  });

  it('closes on frames with bad sizes, unknown APIs or versions, and answers ApiVersions above v4 with error 35', async () => {
    const sizes = [-1, 0, 3, (1 << 20) + 1, 0x7fffffff];
    for (const size of sizes) {
      const c = await RawClient.connect(address);
      const b = Buffer.alloc(16);
      b.writeInt32BE(size, 0);
      c.sendRaw(b);
      expect(await c.next(3000), `size ${size}`).toBeNull();
      expect(c.closed).toBe(true);
    }
    for (const [key, version] of [
      [999, 0],
      [0, 99],
      [8, 0],
      [-5, 0],
    ] as const) {
      const c = await RawClient.connect(address);
      c.sendRaw(frame(key, version, 1, Buffer.alloc(0)));
      expect(await c.next(3000)).toBeNull();
      expect(c.closed, `api ${key} v${version}`).toBe(true);
    }
    const c = await RawClient.connect(address);
    c.sendRaw(frame(18, 5, 42, Buffer.from([0, 0, 0])));
    const res = await c.next(3000);
    expect(res?.readInt32BE(0)).toBe(42);
    expect(res?.readInt16BE(4)).toBe(35);
    const count = res?.readInt32BE(6) ?? 0;
    expect(count).toBe(SUPPORTED_VERSIONS.length);
    c.close();
    // Any number of bytes at once, in any split, still frames correctly.
    const many = await RawClient.connect(address);
    const frames = Buffer.concat(Array.from({ length: 20 }, (_, i) => frame(18, 1, i, Buffer.alloc(0))));
    for (let at = 0; at < frames.length; at += 7) many.sendRaw(frames.subarray(at, at + 7));
    for (let i = 0; i < 20; i++) expect((await many.next(3000))?.readInt32BE(0)).toBe(i);
    many.close();
  });

  it('serves clients normally after the fuzzing, and the log reopens cleanly', async () => {
    const kafka = new Kafka({ brokers: [address], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'after-fuzz', acks: -1, messages: [{ value: 'still here' }] });
    await producer.disconnect();
    await broker.close();
    broker = await startBroker({ dataDir: dir, logger: pino({ level: 'silent' }), port: broker.port });
    const consumer = kafka.consumer({ groupId: 'after-fuzz' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'after-fuzz', fromBeginning: true });
    const value = await new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) });
    });
    await consumer.disconnect();
    expect(value).toBe('still here');
  });
});
