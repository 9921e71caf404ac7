import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import snappy from 'snappy';
import * as zstd from 'zstd-napi';

/**
 * Compression codecs in the shape kafkajs plugs into CompressionCodecs:
 * a factory returning `{ compress(encoder), decompress(buffer) }`. kafkajs
 * ships only gzip; these cover the other three Kafka codecs so any client in
 * the project can read and write every batch a real producer may send.
 */
export interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** zstd (Kafka compression type 4), on zstd-napi. */
export function zstdCodec(level = 3): () => KafkajsCodec {
  return () => ({
    compress: async (encoder) => zstd.compress(encoder.buffer, { compressionLevel: level }),
    decompress: async (buffer) => zstd.decompress(buffer),
  });
}

/** LZ4 (type 3): Kafka batches carry the LZ4 frame format. */
export function lz4Codec(): () => KafkajsCodec {
  return () => ({
    compress: async (encoder) => compressFrameSync(encoder.buffer),
    decompress: async (buffer) => decompressFrameSync(buffer),
  });
}

/** The header of the xerial snappy stream format the Java client writes. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_BLOCK = 32 * 1024;

/**
 * Snappy (type 2). Java clients frame snappy data in the xerial stream
 * format (magic, version, then int32-length-prefixed blocks); librdkafka
 * writes raw snappy. Decompress accepts both; compress writes xerial, which
 * every client reads.
 */
export function snappyCodec(): () => KafkajsCodec {
  return () => ({
    compress: async (encoder) => {
      const parts: Buffer[] = [XERIAL_MAGIC, int32(1), int32(1)];
      for (let at = 0; at < encoder.buffer.length; at += XERIAL_BLOCK) {
        const block = snappy.compressSync(encoder.buffer.subarray(at, at + XERIAL_BLOCK));
        parts.push(int32(block.length), block);
      }
      return Buffer.concat(parts);
    },
    decompress: async (buffer) => {
      if (buffer.length < 16 || !buffer.subarray(0, 8).equals(XERIAL_MAGIC)) {
        return snappy.uncompressSync(buffer, { asBuffer: true }) as Buffer;
      }
      const parts: Buffer[] = [];
      for (let at = 16; at + 4 <= buffer.length; ) {
        const len = buffer.readInt32BE(at);
        at += 4;
        parts.push(snappy.uncompressSync(buffer.subarray(at, at + len), { asBuffer: true }) as Buffer);
        at += len;
      }
      return Buffer.concat(parts);
    },
  });
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n);
  return b;
}
