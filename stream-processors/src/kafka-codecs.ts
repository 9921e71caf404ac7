import kafkajs from 'kafkajs';
import { compress, decompress } from 'zstd-napi';

const { CompressionCodecs, CompressionTypes } = kafkajs;

const codec = () => ({
  async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
    return compress(encoder.buffer, { compressionLevel: 3 });
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    return decompress(buffer);
  },
});

/**
 * Lets kafkajs read the zstd batches the log producers write: kafkajs ships
 * only a placeholder that throws. Its codec table is process-wide, so a
 * codec someone else registered first is left in place.
 */
export function ensureZstdCodec(): void {
  const current = CompressionCodecs[CompressionTypes.ZSTD] as unknown as () => unknown;
  try {
    current();
    return;
  } catch {
    CompressionCodecs[CompressionTypes.ZSTD] = codec;
  }
}
