/**
 * Imports from a running Prometheus through remote read (SAMPLES response
 * type) into a bucket: the range is read one block window at a time, each
 * window's series are cut into chunks and written as a block whose name is
 * derived from its content, so a rerun skips what is already there.
 */
import {
  DEFAULT_BLOCK_DURATION,
  encodeBlock,
  type Matcher,
  type ObjectStore,
  parseSelector,
  SeriesChunker,
  type SeriesInput,
} from '@promstream/storage';
import snappy from 'snappy';
import { MigrateError } from './errors.js';
import { checkTenant } from './import-blocks.js';
import type { MigrateResult, OnProgress } from './progress.js';
import { decodeReadResponse, encodeReadRequest, type ReadSeries } from './remote-read-v1.js';
import { uploadBlock } from './upload-block.js';

/** Options of importRemoteRead. */
export interface ImportRemoteReadOptions {
  /** Start, inclusive (ms). */
  from: number;
  /** End, exclusive (ms). */
  to: number;
  /** Series selectors, e.g. `up{job="node"}`; at least one. */
  match: readonly string[];
  tenant?: string;
  /** Block duration in ms (default two hours). */
  blockDuration?: number;
  /** fetch, injectable for tests of one module. */
  fetch?: typeof fetch;
  onProgress?: OnProgress;
}

/** Posts one remote-read request and decodes the answer. */
async function read(
  url: string,
  startMs: number,
  endMs: number,
  matchers: readonly Matcher[][],
  doFetch: typeof fetch,
) {
  const body = snappy.compressSync(
    Buffer.from(encodeReadRequest(matchers.map((m) => ({ startMs, endMs, matchers: m })))),
  );
  let res: Response;
  try {
    res = await doFetch(url, {
      method: 'POST',
      body,
      headers: {
        'Content-Type': 'application/x-protobuf',
        'Content-Encoding': 'snappy',
        'X-Prometheus-Remote-Read-Version': '0.1.0',
      },
    });
  } catch (e) {
    throw new MigrateError('SOURCE_READ', `remote read ${url}`, { cause: e });
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (!res.ok) {
    throw new MigrateError(
      'SOURCE_READ',
      `remote read ${url}: HTTP ${res.status} ${new TextDecoder().decode(bytes.subarray(0, 300)).trim()}`,
    );
  }
  let raw: Uint8Array;
  try {
    raw = snappy.uncompressSync(Buffer.from(bytes)) as Buffer;
  } catch (e) {
    throw new MigrateError('BAD_INPUT', `remote read ${url}: body is not snappy`, { cause: e });
  }
  return decodeReadResponse(raw);
}

/** Checks the range and parses the selectors of a remote-read import. */
export function checkRemoteRead(options: {
  from: number;
  to: number;
  match: readonly string[];
}): Matcher[][] {
  if (!(options.from < options.to)) {
    throw new MigrateError('BAD_OPTIONS', `empty range: from ${options.from} is not before to ${options.to}`);
  }
  if (options.match.length === 0)
    throw new MigrateError('BAD_OPTIONS', 'at least one --match selector is needed');
  try {
    return options.match.map((s) => parseSelector(s));
  } catch (e) {
    throw new MigrateError('BAD_OPTIONS', 'parse --match selector', { cause: e });
  }
}

/**
 * Reads [from, to) one aligned window at a time, so memory holds one window;
 * a series several selectors select comes once; empty windows are left out.
 */
export async function* readWindows(
  url: string,
  matchers: readonly Matcher[][],
  duration: number,
  options: { from: number; to: number; fetch?: typeof fetch },
): AsyncGenerator<{ start: number; series: ReadSeries[] }> {
  const doFetch = options.fetch ?? fetch;
  for (let start = Math.floor(options.from / duration) * duration; start < options.to; start += duration) {
    const lo = Math.max(start, options.from);
    // Remote read's end is inclusive; the window's is not.
    const hi = Math.min(start + duration, options.to) - 1;
    const results = await read(url, lo, hi, matchers, doFetch);
    const bySeries = new Map<string, ReadSeries>();
    for (const list of results) {
      for (const s of list) {
        const key = JSON.stringify(s.labels);
        if (!bySeries.has(key) && s.t.length > 0) bySeries.set(key, s);
      }
    }
    if (bySeries.size > 0) yield { start, series: [...bySeries.values()] };
  }
}

/** Reads [from, to) of the selected series from a Prometheus and writes blocks into the store. */
export async function importRemoteRead(
  url: string,
  store: ObjectStore,
  options: ImportRemoteReadOptions,
): Promise<MigrateResult> {
  const started = performance.now();
  const tenant = checkTenant(options.tenant ?? 'anonymous');
  const duration = options.blockDuration ?? DEFAULT_BLOCK_DURATION;
  const matchers = checkRemoteRead(options);
  // Each window's block is uploaded as soon as it is read, so memory holds one window.
  const result: MigrateResult = { copied: [], skipped: [], bytes: 0, samples: 0, seconds: 0 };
  const first = Math.floor(options.from / duration) * duration;
  const windows = Math.max(1, Math.ceil((options.to - first) / duration));
  for await (const { start, series } of readWindows(url, matchers, duration, options)) {
    const bySeries: SeriesInput[] = [];
    for (const s of series) {
      const chunker = new SeriesChunker(2 * duration);
      for (let i = 0; i < s.t.length; i++) chunker.append(s.t[i]!, s.v[i]!);
      chunker.flush();
      bySeries.push({ labels: s.labels, chunks: chunker.chunks });
    }
    const block = encodeBlock(bySeries, {
      thanos: { labels: { tenant }, downsample: { resolution: 0 }, source: 'promstream-remote-read' },
    });
    await uploadBlock(store, tenant, block, result);
    // The total is not known before the range is read: it is estimated from the windows done.
    const done = Math.min(windows, Math.floor((start - first) / duration) + 1);
    options.onProgress?.({
      blocks: result.copied.length + result.skipped.length,
      totalBlocks: windows,
      bytes: result.bytes,
      totalBytes: Math.round((result.bytes / done) * windows),
      samples: result.samples,
      skipped: result.skipped.length,
    });
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
