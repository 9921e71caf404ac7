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
 * throws. kafkajs keeps its codecs in a process-wide table, so this is
 * idempotent and every producer and consumer in the process can then read
 * and write zstd batches.
 */
export function registerZstdCodec(): void {
  if (CompressionCodecs[CompressionTypes.ZSTD] === codec) return;
  CompressionCodecs[CompressionTypes.ZSTD] = codec;
}
