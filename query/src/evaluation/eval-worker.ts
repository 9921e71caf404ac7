import { type MessagePort, parentPort } from 'node:worker_threads';
import type { Matcher } from '@promstream/storage';
import { Engine } from '../promql/engine.js';
import type { Querier, SelectHints, Series } from '../querier.js';
import { answerChunks, evaluate } from './answerer.js';
import {
  errorData,
  errorFromData,
  type FromWorker,
  type MatcherData,
  type QuerierCall,
  type ToWorker,
} from './protocol.js';
import { decodeSelection, type EncodedSelection } from './selection-codec.js';

/**
 * An evaluation thread: runs one query at a time with the PromQL engine,
 * reading through the main thread's querier (see protocol.ts), and sends
 * back the answer's JSON. A query that never yields is stopped by the
 * engine's own deadline, and past that by the pool terminating the thread.
 */

/** Answers smaller than this cross as one message. */
const COALESCE_BYTES = 256 * 1024;

/** Serves evaluations on a port until the thread ends. */
function serve(port: MessagePort): void {
  const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextCall = 0;
  let cancel: AbortController | undefined;

  function call<T>(c: QuerierCall): Promise<T> {
    const id = nextCall++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      post({ type: 'call', id, call: c });
    });
  }

  const data = (ms: readonly Matcher[]): MatcherData[] =>
    ms.map((m) => ({ type: m.type, name: m.name, value: m.value }));

  /** The main thread's querier, seen from here. */
  const remote: Querier = {
    async select(hints: SelectHints, matchers: readonly Matcher[]): Promise<Series[]> {
      const sel = await call<EncodedSelection>({
        method: 'select',
        mint: hints.mint,
        maxt: hints.maxt,
        matchers: data(matchers),
        func: hints.func ?? '',
        range: hints.range ?? 0,
      });
      return decodeSelection(sel);
    },
    labelNames: (hints, matchers) =>
      call<string[]>({ method: 'labelNames', mint: hints.mint, maxt: hints.maxt, matchers: data(matchers) }),
    labelValues: (hints, name, matchers) =>
      call<string[]>({
        method: 'labelValues',
        mint: hints.mint,
        maxt: hints.maxt,
        name,
        matchers: data(matchers),
      }),
  };

  async function run(m: Extract<ToWorker, { type: 'eval' }>): Promise<void> {
    cancel = new AbortController();
    try {
      const engine = new Engine({
        lookbackDelta: m.options.lookbackDelta,
        maxSamples: m.options.maxSamples,
        timeout: m.options.timeoutMs,
      });
      const result = await evaluate(engine, remote, m.request, cancel.signal);
      // Small chunks go together, so a small answer is one message (and one write on the other side).
      let held: Uint8Array[] = [];
      let heldBytes = 0;
      const flush = () => {
        if (heldBytes === 0) return;
        let bytes = held[0]!;
        if (held.length > 1) {
          bytes = new Uint8Array(heldBytes);
          let at = 0;
          for (const c of held) {
            bytes.set(c, at);
            at += c.length;
          }
        }
        // The bytes own their buffer (the writer moves on to a new one), so they can be handed over.
        post({ type: 'chunk', bytes }, [bytes.buffer as ArrayBuffer]);
        held = [];
        heldBytes = 0;
      };
      for (const chunk of answerChunks(result, m.request)) {
        if (cancel.signal.aborted) throw new Error('query was canceled');
        held.push(chunk);
        heldBytes += chunk.length;
        if (heldBytes >= COALESCE_BYTES) flush();
      }
      flush();
      post({ type: 'done' });
    } catch (err) {
      post({ type: 'failed', error: errorData(err) });
    } finally {
      cancel = undefined;
      pending.clear();
    }
  }

  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'eval':
        void run(m);
        return;
      case 'result':
        pending.get(m.id)?.resolve(m.value);
        pending.delete(m.id);
        return;
      case 'failure':
        pending.get(m.id)?.reject(errorFromData(m.error));
        pending.delete(m.id);
        return;
      case 'cancel':
        cancel?.abort();
        for (const p of pending.values()) p.reject(new Error('query was canceled'));
        pending.clear();
        return;
    }
  });

  post({ type: 'ready' });
}

if (parentPort === null) throw new Error('eval-worker runs as a worker thread');
serve(parentPort);
