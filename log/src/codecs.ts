import kafkajs from 'kafkajs';
import { compress, decompress } from 'zstd-napi';

const { CompressionCodecs, CompressionTypes } = kafkajs;

// Level 3 is zstd's default: most of the ratio for a small share of the CPU.
const ZSTD_LEVEL = 3;

const codec = () => ({
  async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
    return compress(encoder.buffer, { compressionLevel: ZSTD_LEVEL });
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    return decompress(buffer);
  },
});

/**
 * Registers a zstd codec with kafkajs, which ships only a placeholder that
 * throws. Every producer and consumer of the log needs it: the log's batches
 * are zstd-compressed. kafkajs keeps its codecs in a process-wide table, so
 * only the client factory calls this (every client passes through it); it is
 * idempotent, and a working codec registered by someone else first is left
 * in place.
 */
export function registerZstdCodec(): void {
  const current = CompressionCodecs[CompressionTypes.ZSTD] as unknown as (() => unknown) | undefined;
  if (current === codec) return;
  if (current !== undefined) {
    try {
      current();
      return;
    } catch {
      // kafkajs' placeholder throws when called: replace it.
    }
  }
  CompressionCodecs[CompressionTypes.ZSTD] = codec;
}
