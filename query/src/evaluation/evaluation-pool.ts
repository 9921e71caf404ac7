import { Worker } from 'node:worker_threads';
import { newMatcher } from '@promstream/storage';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ApiError } from '../api/errors.js';
import { abortError } from '../api/gate.js';
import type { Querier } from '../querier.js';
import type { QueryAnswerer, QueryRequest } from './answerer.js';
import { ChunkQueue } from './chunk-queue.js';
import { errorData, errorFromData, type FromWorker, type QuerierCall, type ToWorker } from './protocol.js';
import { encodeSelection, selectionTransfer } from './selection-codec.js';

/** Options of the evaluation pool. */
export interface EvaluationPoolOptions {
  /** Threads kept started while idle, so a query never waits for one to start (default 2). */
  minThreads?: number;
  /** Most threads at once, one per running query (default 20); a query past it waits. */
  maxThreads?: number;
  /** How long a thread beyond `minThreads` may stay idle before it ends, milliseconds (default 60 s). */
  idleMs?: number;
  /**
   * How long a cancelled evaluation may take to stop by itself before its
   * thread is terminated and replaced, milliseconds (default 500).
   */
  graceMs?: number;
  /** Engine lookback delta, milliseconds. */
  lookbackDelta?: number;
  /** Samples one query may load at once. */
  maxSamples?: number;
  logger?: Pick<Logger, 'warn' | 'error'>;
  /** Where the pool's metrics go. */
  registry?: Registry;
}

/** One evaluation thread and the handlers of the query it runs. */
class EvalThread {
  busy = false;
  dead = false;
  idleTimer?: NodeJS.Timeout;
  onMessage?: (m: FromWorker) => void;
  onExit?: (err: Error) => void;

  constructor(
    readonly worker: Worker,
    readonly ready: Promise<void>,
  ) {}

  post(m: ToWorker, transfer?: ArrayBuffer[]): void {
    if (!this.dead) this.worker.postMessage(m, transfer);
  }
}

/**
 * PromQL evaluation on worker threads, one query per thread: a query that
 * runs long (or never ends) holds only its own thread, while the main thread
 * keeps answering other requests, health checks and `/metrics` and keeps
 * reading the log into the head. The main thread stays the owner of the
 * data: a thread's selects come back to it (see protocol.ts), and the thread
 * sends the finished answer's JSON. A cancelled query (timeout, client gone)
 * is told to stop; if it has not within `graceMs`, its thread is terminated
 * and a fresh one takes its place.
 */
export class EvaluationPool implements QueryAnswerer {
  private readonly threads = new Set<EvalThread>();
  private readonly idle: EvalThread[] = [];
  private readonly waiting: Array<(t: EvalThread) => void> = [];
  private closing = false;
  private readonly minThreads: number;
  private readonly maxThreads: number;
  private readonly metrics;

  constructor(private readonly options: EvaluationPoolOptions = {}) {
    this.minThreads = options.minThreads ?? 2;
    this.maxThreads = Math.max(1, options.maxThreads ?? 20, this.minThreads);
    const registers = options.registry === undefined ? [] : [options.registry];
    this.metrics = {
      threads: new Gauge({
        name: 'promstream_query_eval_threads',
        help: 'Evaluation threads, by state (busy: running a query).',
        labelNames: ['state'],
        registers,
        collect: () => {
          let busy = 0;
          for (const t of this.threads) if (t.busy) busy++;
          this.metrics.threads.set({ state: 'busy' }, busy);
          this.metrics.threads.set({ state: 'idle' }, this.threads.size - busy);
        },
      }),
      terminated: new Counter({
        name: 'promstream_query_eval_threads_terminated_total',
        help: 'Evaluation threads terminated because a cancelled query did not stop in time.',
        registers,
      }),
    };
    for (let i = 0; i < this.minThreads; i++) this.idle.push(this.spawn());
  }

  /** Resolves once the threads kept warm have started (for callers that want no cold start). */
  async started(): Promise<void> {
    await Promise.all([...this.threads].map((t) => t.ready));
  }

  async *answer(querier: Querier, request: QueryRequest, signal: AbortSignal): AsyncIterable<Uint8Array> {
    const thread = await this.acquire(signal);
    if (thread.dead) throw new ApiError('internal', 'the evaluation thread stopped before it started');
    const queue = new ChunkQueue();
    let settled = false;
    thread.onMessage = (m) => {
      switch (m.type) {
        case 'call':
          void this.serveCall(thread, querier, m.id, m.call, signal);
          return;
        case 'chunk':
          queue.push(m.bytes);
          return;
        case 'done':
          settled = true;
          queue.end();
          return;
        case 'failed':
          settled = true;
          queue.fail(errorFromData(m.error));
          return;
        case 'ready':
          return;
      }
    };
    thread.onExit = (err) => queue.fail(err);
    const onAbort = () => queue.fail(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    thread.post({
      type: 'eval',
      request,
      options: {
        lookbackDelta: this.options.lookbackDelta,
        maxSamples: this.options.maxSamples,
        timeoutMs: request.timeoutMs,
      },
    });
    try {
      for (;;) {
        const chunk = await queue.next();
        if (chunk === undefined) return;
        yield chunk;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (settled) this.release(thread);
      else this.stop(thread);
    }
  }

  /** Terminates every thread; running queries fail. */
  async close(): Promise<void> {
    this.closing = true;
    const err = new ApiError('unavailable', 'the query server is shutting down');
    for (const t of this.threads) t.onExit?.(err);
    await Promise.all([...this.threads].map((t) => t.worker.terminate()));
    this.threads.clear();
    this.idle.length = 0;
  }

  private async serveCall(
    thread: EvalThread,
    querier: Querier,
    id: number,
    c: QuerierCall,
    signal: AbortSignal,
  ): Promise<void> {
    try {
      const matchers = c.matchers.map((m) => newMatcher(m.type, m.name, m.value));
      const hints = { mint: c.mint, maxt: c.maxt, signal };
      if (c.method === 'select') {
        const series = await querier.select({ ...hints, func: c.func, range: c.range }, matchers);
        const sel = await encodeSelection(series, c.mint, c.maxt, signal);
        thread.post({ type: 'result', id, value: sel }, selectionTransfer(sel));
      } else if (c.method === 'labelNames') {
        thread.post({ type: 'result', id, value: await querier.labelNames(hints, matchers) });
      } else {
        thread.post({ type: 'result', id, value: await querier.labelValues(hints, c.name, matchers) });
      }
    } catch (err) {
      thread.post({ type: 'failure', id, error: errorData(err) });
    }
  }

  private acquire(signal: AbortSignal): Promise<EvalThread> {
    if (this.closing) return Promise.reject(new ApiError('unavailable', 'the query server is shutting down'));
    if (signal.aborted) return Promise.reject(abortError(signal));
    let thread = this.idle.pop();
    if (thread === undefined && this.threads.size < this.maxThreads) thread = this.spawn();
    if (thread !== undefined) {
      const t = thread;
      clearTimeout(t.idleTimer);
      t.busy = true;
      return t.ready.then(() => t);
    }
    return new Promise((resolve, reject) => {
      const take = (t: EvalThread) => {
        signal.removeEventListener('abort', onAbort);
        t.busy = true;
        resolve(t);
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(take);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(take);
    });
  }

  /** Gives a thread whose query ended back to the pool. */
  private release(thread: EvalThread): void {
    thread.onMessage = undefined;
    thread.onExit = undefined;
    thread.busy = false;
    if (thread.dead || this.closing) return;
    const next = this.waiting.shift();
    if (next !== undefined) {
      next(thread);
      return;
    }
    this.idle.push(thread);
    if (this.threads.size > this.minThreads) {
      thread.idleTimer = setTimeout(() => this.retire(thread), this.options.idleMs ?? 60_000);
      thread.idleTimer.unref();
    }
  }

  /** Asks a thread to drop its query; terminates it when it does not within the grace time. */
  private stop(thread: EvalThread): void {
    const timer = setTimeout(() => {
      if (thread.dead) return;
      this.metrics.terminated.inc();
      this.options.logger?.warn({}, 'evaluation thread did not stop after cancel: terminated');
      this.remove(thread);
      void thread.worker.terminate();
    }, this.options.graceMs ?? 500);
    timer.unref();
    thread.onExit = undefined;
    thread.onMessage = (m) => {
      if (m.type === 'call')
        thread.post({ type: 'failure', id: m.id, error: errorData(new Error('canceled')) });
      else if (m.type === 'done' || m.type === 'failed') {
        clearTimeout(timer);
        this.release(thread);
      }
    };
    thread.post({ type: 'cancel' });
  }

  private retire(thread: EvalThread): void {
    const i = this.idle.indexOf(thread);
    if (i < 0 || this.threads.size <= this.minThreads) return;
    this.idle.splice(i, 1);
    this.remove(thread);
    void thread.worker.terminate();
  }

  /** Forgets a thread and starts another when fewer than `minThreads` are left. */
  private remove(thread: EvalThread): void {
    if (thread.dead) return;
    thread.dead = true;
    this.threads.delete(thread);
    const i = this.idle.indexOf(thread);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.closing) return;
    if (this.threads.size < this.minThreads || this.waiting.length > 0) {
      const fresh = this.spawn();
      const next = this.waiting.shift();
      if (next !== undefined) void fresh.ready.then(() => next(fresh));
      else this.idle.push(fresh);
    }
  }

  private spawn(): EvalThread {
    const worker = startWorker();
    // The main thread's own handles keep the process alive; an idle pool must not.
    worker.unref();
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    const thread = new EvalThread(worker, ready);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') markReady();
      else thread.onMessage?.(m);
    });
    worker.on('error', (err) => this.options.logger?.error({ err }, 'evaluation thread failed'));
    worker.on('exit', () => {
      const onExit = thread.onExit;
      const wasDead = thread.dead;
      this.remove(thread);
      if (!wasDead) onExit?.(new ApiError('internal', 'the evaluation thread stopped'));
      // A thread that died before starting must not leave its query waiting.
      markReady();
    });
    this.threads.add(thread);
    return thread;
  }
}

/**
 * Starts an evaluation thread on the built module, or, when this module runs
 * from TypeScript sources (tests, benchmarks), on the source through tsx.
 */
function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./eval-worker.js', here));
  const entry = new URL('./eval-worker.ts', here).href;
  const code = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  // Only the resolution condition: the parent's other flags (`-e`, `--import`) are not for a worker.
  return new Worker(code, { eval: true, execArgv: ['--conditions=@promstream/source'] });
}
