/**
 * An error of the stream a streamed put reads from, carried through the
 * store's own error mapping and thrown as it was: a failing source is the
 * caller's error, not the store's.
 */
export class SourceFailure extends Error {
  constructor(readonly source: unknown) {
    super('put source failed', { cause: source });
  }
}

/** The chunks of `body`, with any failure of the stream wrapped in a SourceFailure. */
export async function* fromSource(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await it.next();
    } catch (e) {
      throw new SourceFailure(e);
    }
    if (next.done === true) return;
    yield next.value;
  }
}
