import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { decompress } from 'zstd-napi';
import { registerZstdCodec } from './codecs.js';

describe('kafkajs zstd codec', () => {
  it('replaces kafkajs placeholder and round-trips a batch as a zstd frame', async () => {
    registerZstdCodec();
    registerZstdCodec();
    const codec = kafkajs.CompressionCodecs[kafkajs.CompressionTypes.ZSTD]!() as {
      compress(encoder: { buffer: Buffer }): Promise<Buffer>;
      decompress(buffer: Buffer): Promise<Buffer>;
    };
    const input = Buffer.from('promstream '.repeat(1000));
    const compressed = await codec.compress({ buffer: input });
    // A zstd frame starts with the magic number 0xFD2FB528 (little endian).
    expect(compressed.readUInt32LE(0)).toBe(0xfd2fb528);
    expect(compressed.length).toBeLessThan(input.length / 10);
    expect(decompress(compressed).equals(input)).toBe(true);
    expect((await codec.decompress(compressed)).equals(input)).toBe(true);
  });
});
