/**
 * A queue of answer chunks between the thread messages that fill it and the
 * request that drains it: `next()` resolves with the next chunk, undefined
 * at the end, or rejects with the first failure (which wins over chunks
 * still queued, so a cancelled answer stops at once).
 */
export class ChunkQueue {
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  push(chunk: Uint8Array): void {
    if (this.ended || this.error !== undefined) return;
    this.chunks.push(chunk);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  fail(err: Error): void {
    if (this.error === undefined && !(this.ended && this.chunks.length === 0)) this.error = err;
    this.wake?.();
  }

  async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      if (this.error !== undefined) throw this.error;
      const chunk = this.chunks.shift();
      if (chunk !== undefined) return chunk;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}
