/**
 * The `promstream block` commands: build blocks from OpenMetrics text, dump
 * a block's samples, and analyze its index, like promtool's tsdb commands.
 * Every function writes through `out` so tests can capture it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { backfillText, DEFAULT_BLOCK_DURATION, storeBlockSink } from '../block/backfill.js';
import { formatLabels } from '../block/labels.js';
import { BlockReader } from '../block/reader.js';
import type { TextFormat } from '../block/text-parser.js';
import { isUlid } from '../block/ulid.js';
import { parseDuration } from '../duration.js';
import { StorageError, StorageErrorCode } from '../errors.js';
import { type Matcher, newMatcher, ValueType } from '../model.js';
import { objectStoreFromUrl, type S3Settings } from '../objstore/from-url.js';
import type { ObjectStore } from '../objstore/object-store.js';
import { formatGoFloat } from './go-float.js';
import { backfillSummary, badLinesReport, type ProgressStream, textProgress } from './progress.js';

/** Where command output goes. */
export type Out = (text: string) => void;

/** The block duration of `create-blocks-from openmetrics --block-duration`, above 0. */
function blockDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      `duration ${JSON.stringify(text)} is not like 2h or 90m`,
    );
  }
  return ms;
}

/** The block directories under `dir`: itself when it holds meta.json, else its ULID children. */
async function blockDirs(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list('')) {
    if (o.isPrefix && isUlid(o.key.slice(0, -1))) out.push(o.key.slice(0, -1));
  }
  return out;
}

/**
 * The store and block names for DIR: a local block directory itself (holding
 * meta.json) is read through its parent; anything else (a directory or a
 * store URL) through its ULID children.
 */
async function openDir(dir: string, s3?: S3Settings): Promise<{ store: ObjectStore; blocks: string[] }> {
  const store = objectStoreFromUrl(dir, s3);
  if ((await store.head('meta.json')) !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(dir)) {
    const abs = resolve(dir);
    return { store: objectStoreFromUrl(dirname(abs)), blocks: [basename(abs)] };
  }
  const blocks = await blockDirs(store);
  if (blocks.length === 0) throw new StorageError(StorageErrorCode.NotFound, `no blocks under ${dir}`);
  return { store, blocks };
}

/** Options of `block create-from-openmetrics`. */
export interface CreateFromTextOptions {
  blockDuration?: string;
  /** openmetrics, prometheus or auto (default). */
  format?: string;
  skipBadLines?: boolean;
  tmpDir?: string;
  /** Show progress on stderr (default true). */
  progress?: boolean;
  /** Where progress and the bad-line report go (default stderr). */
  progressStream?: ProgressStream;
  /** S3 endpoint and keys when DIR is an s3:// URL. */
  s3?: S3Settings;
}

/** Parses a --format flag. */
export function parseTextFormat(s: string | undefined): TextFormat | 'auto' {
  if (s === undefined || s === 'auto' || s === 'openmetrics' || s === 'prometheus') return s ?? 'auto';
  throw new StorageError(
    StorageErrorCode.InvalidArgument,
    `format ${JSON.stringify(s)} is not openmetrics, prometheus or auto`,
  );
}

/** A file ('-' for stdin) as a stream of chunks, and its size when known. */
export async function openTextInput(
  file: string,
): Promise<{ input: AsyncIterable<Uint8Array>; size?: number }> {
  if (file === '-') return { input: process.stdin };
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (e) {
    throw new StorageError(StorageErrorCode.NotFound, `read ${file}: ${(e as Error).message}`, { cause: e });
  }
  return { input: createReadStream(file, { highWaterMark: 1 << 20 }), size };
}

/**
 * `block create-from-openmetrics FILE DIR`: streams the file (or stdin) into
 * blocks, prints a table of them and a summary with the peak RSS.
 */
export async function createFromOpenMetricsCommand(
  file: string,
  dir: string,
  options: CreateFromTextOptions,
  out: Out,
): Promise<void> {
  const started = performance.now();
  const duration =
    options.blockDuration === undefined ? DEFAULT_BLOCK_DURATION : blockDuration(options.blockDuration);
  const format = parseTextFormat(options.format);
  const { input, size } = await openTextInput(file);
  const errStream = options.progressStream ?? process.stderr;
  const bar = options.progress === false ? undefined : textProgress({ totalBytes: size, stream: errStream });
  let r: Awaited<ReturnType<typeof backfillText>>;
  try {
    r = await backfillText(input, storeBlockSink(objectStoreFromUrl(dir, options.s3), ''), {
      blockDuration: duration,
      format,
      skipBadLines: options.skipBadLines,
      tmpDir: options.tmpDir,
      onProgress: bar?.update,
    });
  } finally {
    bar?.done();
  }
  out('BLOCK ULID                  MIN TIME       MAX TIME       NUM SAMPLES  NUM CHUNKS   NUM SERIES\n');
  for (const m of r.blocks) {
    out(
      `${m.ulid}  ${String(m.minTime).padEnd(13)}  ${String(m.maxTime).padEnd(13)}  ${String(m.stats.numSamples).padEnd(11)}  ${String(m.stats.numChunks).padEnd(11)}  ${m.stats.numSeries}\n`,
    );
  }
  errStream.write(badLinesReport(r));
  out(`${backfillSummary(r, (performance.now() - started) / 1000)}\n`);
}

/** `block dump DIR`: every sample as `{labels} value timestamp`, as promtool tsdb dump prints. */
export async function dumpCommand(
  dir: string,
  options: { minTime?: number; maxTime?: number; match?: Matcher[]; s3?: S3Settings },
  out: Out,
): Promise<void> {
  const { store, blocks } = await openDir(dir, options.s3);
  const mint = options.minTime ?? Number.NEGATIVE_INFINITY;
  const maxt = options.maxTime ?? Number.POSITIVE_INFINITY;
  const matchers = options.match ?? [newMatcher('=~', '__name__', '.+')];
  for (const b of blocks) {
    const r = await BlockReader.open(store, b);
    let it: ReturnType<Awaited<ReturnType<BlockReader['select']>>[number]['iterator']> | undefined;
    for (const s of await r.select(matchers, mint, maxt)) {
      const name = formatLabels(s.labels);
      it = s.iterator(it);
      let buf = '';
      while (it.next() === ValueType.Float) buf += `${name} ${formatGoFloat(it.at())} ${it.atT()}\n`;
      const e = it.err();
      if (e !== undefined) throw e;
      out(buf);
    }
  }
}

/** `block analyze DIR [ULID]`: the block's size, cardinality and the labels that drive it. */
export async function analyzeCommand(
  dir: string,
  ulid: string | undefined,
  options: { limit?: number; s3?: S3Settings },
  out: Out,
): Promise<void> {
  const { store, blocks: all } = await openDir(dir, options.s3);
  let chosen: string;
  if (ulid !== undefined) {
    if (!all.includes(ulid))
      throw new StorageError(StorageErrorCode.NotFound, `block ${ulid} is not under ${dir}`);
    chosen = ulid;
  } else {
    // The newest block, as promtool picks.
    chosen = [...all].sort().pop()!;
  }
  const r = await BlockReader.open(store, chosen);
  const limit = options.limit ?? 20;
  const m = r.meta;
  out(`Block ID: ${m.ulid}\n`);
  out(`Duration: ${formatDuration(m.maxTime - m.minTime)}\n`);
  out(`Total Series: ${m.stats.numSeries}\n`);
  out(`Samples: ${m.stats.numSamples}\nChunks: ${m.stats.numChunks}\n`);
  const names = r.labelNames();
  out(`Label names: ${names.length}\n`);
  const cardinality: [string, number][] = [];
  const valueLength: [string, number][] = [];
  let pairs = 0;
  let entries = 0;
  const pairCounts: [string, number][] = [];
  for (const n of names) {
    const values = r.labelValues(n);
    cardinality.push([n, values.length]);
    valueLength.push([n, values.reduce((a, v) => a + v.length, 0)]);
    pairs += values.length;
    for (const v of values) {
      const c = (await r.index.postings(n, v)).length;
      entries += c;
      pairCounts.push([`${n}=${v}`, c]);
    }
  }
  out(`Postings (unique label pairs): ${pairs}\nPostings entries (total label pairs): ${entries}\n`);
  const top = (title: string, rows: [string, number][]) => {
    out(`\n${title}:\n`);
    for (const [k, v] of [...rows].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit)) {
      out(`${v} ${k}\n`);
    }
  };
  top('Label names with highest cumulative label value length', valueLength);
  top('Highest cardinality labels', cardinality);
  top('Most common label pairs', pairCounts);
  const metricCounts: [string, number][] = [];
  for (const v of r.labelValues('__name__'))
    metricCounts.push([v, (await r.index.postings('__name__', v)).length]);
  top('Highest cardinality metric names', metricCounts);
  const chunksBytes = (await store.head(`${chosen}/chunks/000001`))?.size ?? 0;
  if (m.stats.numSamples > 0) {
    out(`\nBytes per sample (first segment file): ${(chunksBytes / m.stats.numSamples).toFixed(3)}\n`);
  }
}

function formatDuration(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const mi = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || mi > 0 ? `${mi}m` : ''}${s}s`;
}

/** Parses a series selector such as `up{job="api",instance=~"10\..*"}` into matchers. */
export function parseSelector(s: string): Matcher[] {
  const bad = (why: string): never => {
    throw new StorageError(StorageErrorCode.InvalidArgument, `selector ${s}: ${why}`);
  };
  const m = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$/s.exec(s);
  if (m === null || (m[1] === undefined && m[2] === undefined))
    return bad('expected name{label="value",...}');
  const out: Matcher[] = [];
  if (m[1] !== undefined) out.push(newMatcher('=', '__name__', m[1]));
  const body = m[2] ?? '';
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/gy;
  let at = 0;
  while (at < body.length) {
    re.lastIndex = at;
    const p = re.exec(body);
    if (p === null) return bad(`cannot read matcher at ${JSON.stringify(body.slice(at))}`);
    const value = JSON.parse(`"${p[3]!}"`) as string;
    try {
      out.push(newMatcher(p[2] as Matcher['type'], p[1]!, value));
    } catch (e) {
      return bad(`regex ${value}: ${(e as Error).message}`);
    }
    at = re.lastIndex;
  }
  if (out.length === 0) return bad('no matchers');
  return out;
}
