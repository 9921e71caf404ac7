/**
 * Packs many small byte strings back to back in large slabs, so each costs
 * its own bytes and a view instead of a buffer of its own.
 */

/** Bytes of each slab. */
const SLAB_BYTES = 1 << 20;

/** A bump allocator of byte copies; slabs are freed with the arena. */
export class ByteArena {
  private slab = new Uint8Array(0);
  private used = 0;

  /** Copies `bytes` into the arena and returns the copy. */
  copy = (bytes: Uint8Array): Uint8Array => {
    if (this.used + bytes.length > this.slab.length) {
      this.slab = new Uint8Array(Math.max(SLAB_BYTES, bytes.length));
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + bytes.length);
    out.set(bytes);
    this.used += bytes.length;
    return out;
  };
}
