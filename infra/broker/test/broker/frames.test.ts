import net from 'node:net';
import { seededRandom } from '@promstream/testkit';
import { describe, expect, it } from 'vitest';
import { FrameParser, FramePool, readFrames } from '../../src/frames.js';

/** Frames of the given body sizes, each body filled with bytes that tell it apart. */
function framesOf(sizes: number[], random: () => number): { bodies: Buffer[]; wire: Buffer } {
  const bodies = sizes.map((n) => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(random() * 256);
    return b;
  });
  const wire = Buffer.concat(
    bodies.flatMap((b) => {
      const size = Buffer.allocUnsafe(4);
      size.writeInt32BE(b.length);
      return [size, b];
    }),
  );
  return { bodies, wire };
}

/** The frames are the bodies, byte for byte and in order. */
function expectSame(frames: Buffer[], bodies: Buffer[]): void {
  expect(frames.length).toBe(bodies.length);
  expect(frames.map((f, i) => f.equals(bodies[i] as Buffer))).toEqual(bodies.map(() => true));
}

/** Sizes around the scratch buffer's edge (64 KiB), small ones and one of several MiB. */
const SIZES = [8, 100, 4096, 65_531, 65_532, 65_533, 65_536, 70_000, 3 << 20, 9, 1 << 20, 12];

function collector(): {
  frames: Buffer[];
  bad: number[];
  sink: { frame(f: Buffer): void; badSize(n: number): void };
} {
  const frames: Buffer[] = [];
  const bad: number[] = [];
  return { frames, bad, sink: { frame: (f) => frames.push(f), badSize: (n) => bad.push(n) } };
}

describe('request frames', () => {
  it('cuts frames out of chunks split anywhere, whole and in order', () => {
    const random = seededRandom(7);
    const { bodies, wire } = framesOf(SIZES, random);
    for (const maxChunk of [1, 3, 4, 5, 4096, 65_536, 200_000, wire.length]) {
      const c = collector();
      const parser = new FrameParser(100 << 20, c.sink);
      for (let at = 0; at < wire.length; ) {
        const n = Math.max(1, Math.min(wire.length - at, Math.ceil(random() * maxChunk)));
        parser.feed(wire.subarray(at, at + n));
        at += n;
      }
      expect(c.bad).toEqual([]);
      expect(c.frames.length).toBe(bodies.length);
      expectSame(c.frames, bodies);
    }
  });

  it('reads a large frame straight into its own buffer, and frames stay intact after later reads', () => {
    const random = seededRandom(11);
    const { bodies, wire } = framesOf([200, 1 << 20, 300, 70_000], random);
    const c = collector();
    const parser = new FrameParser(100 << 20, c.sink);
    // Reads as the socket does them: into whatever buffer the parser names, as much as fits.
    let straight = 0;
    for (let at = 0; at < wire.length; ) {
      const into = parser.nextBuffer();
      const n = Math.min(into.length, wire.length - at, 1 + Math.floor(random() * 100_000));
      wire.copy(into, 0, at, at + n);
      // Only a large frame's own buffer offers more room than the 64 KiB scratch.
      if (into.length > 65_536) straight++;
      at += n;
      parser.received(n);
    }
    expect(straight).toBeGreaterThan(0);
    expect(c.frames.map((f) => f.length)).toEqual(bodies.map((b) => b.length));
    expectSame(c.frames, bodies);
  });

  it('reports a size out of bounds once and hands on nothing after it', () => {
    for (const size of [-1, 0, 7, 1001]) {
      const c = collector();
      const parser = new FrameParser(1000, c.sink);
      const good = framesOf([20], seededRandom(3)).wire;
      const bad = Buffer.alloc(40);
      bad.writeInt32BE(size);
      parser.feed(Buffer.concat([good, bad, good]));
      expect(c.frames.length).toBe(1);
      expect(c.bad).toEqual([size]);
    }
  });

  it.each([
    ['into its own buffers', true],
    ['through data events', false],
  ])('reads a socket %s, through pauses, byte for byte', async (_, allowDirect) => {
    const random = seededRandom(5);
    const { bodies, wire } = framesOf([...SIZES, ...SIZES], random);
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const frames: Buffer[] = [];
    let direct: boolean | null = null;
    const all = new Promise<void>((resolve) => {
      server.once('connection', (socket) => {
        direct = readFrames(
          socket,
          100 << 20,
          {
            frame: (f) => {
              frames.push(f);
              // Pause after every third frame for a moment, as the broker does when requests pile up.
              if (frames.length % 3 === 0) {
                socket.pause();
                setTimeout(() => socket.resume(), 5);
              }
              if (frames.length === bodies.length) resolve();
            },
            badSize: () => {},
          },
          null,
          allowDirect,
        ).directReads;
      });
    });
    const client = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => client.once('connect', () => r()));
    for (let at = 0; at < wire.length; ) {
      const n = Math.min(wire.length - at, 1 + Math.floor(random() * 300_000));
      client.write(wire.subarray(at, at + n));
      at += n;
      if (random() < 0.3) await new Promise((r) => setTimeout(r, 1));
    }
    await all;
    client.destroy();
    server.close();
    // This runtime lets the broker read into its own buffers.
    expect(direct).toBe(allowDirect);
    expect(frames.length).toBe(bodies.length);
    expectSame(frames, bodies);
  });

  it('reuses a large frame buffer given back, and only buffers of its own, up to its limit', () => {
    const pool = new FramePool(3 << 20);
    const a = pool.take(1_100_000);
    expect(a.length).toBe(1_100_000);
    expect(a.buffer.byteLength).toBe(2 << 20);
    pool.give(a);
    pool.give(a); // given twice: kept once
    const b = pool.take(1_500_000);
    expect(b.buffer).toBe(a.buffer);
    const c = pool.take(1_500_000);
    expect(c.buffer).not.toBe(a.buffer);
    // A buffer the pool did not make, or a view into the middle of one, is not taken in.
    pool.give(Buffer.allocUnsafeSlow(2 << 20));
    pool.give(c.subarray(10));
    expect(pool.take(2 << 20).buffer).not.toBe(c.buffer);
    // A frame above 16 MiB gets a buffer of its exact size, and it is not kept.
    const huge = pool.take((16 << 20) + 1);
    expect(huge.buffer.byteLength).toBe((16 << 20) + 1);
    pool.give(huge);
    expect(pool.take((16 << 20) + 1).buffer).not.toBe(huge.buffer);
    // Past the limit a buffer is left to the collector.
    pool.give(b);
    pool.give(c);
    expect(pool.take(2 << 20).buffer).toBe(b.buffer);
    expect(pool.take(2 << 20).buffer).not.toBe(c.buffer);
  });

  it('fills a large frame in a pooled buffer with exactly its bytes', () => {
    const pool = new FramePool(16 << 20);
    const random = seededRandom(13);
    const first = framesOf([1 << 20], random);
    const c = collector();
    new FrameParser(100 << 20, c.sink, pool).feed(first.wire);
    expectSame(c.frames, first.bodies);
    pool.give(c.frames[0] as Buffer);
    // The next frame lands in the same memory and carries only its own bytes.
    const second = framesOf([900_000], random);
    const d = collector();
    new FrameParser(100 << 20, d.sink, pool).feed(second.wire);
    expect(d.frames[0]?.buffer).toBe(c.frames[0]?.buffer);
    expectSame(d.frames, second.bodies);
  });
});
