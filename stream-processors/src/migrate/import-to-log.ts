/**
 * Imports onto the log instead of the bucket: samples become SampleBatch
 * records on promstream.samples.v1 through the ingest writers (passed in as
 * a sink). The sink must mark its records as backfill (ingest's writers with
 * `backfill: 'import'`, as `promstream import --to-log` creates them): the
 * samples are old, and the block builder places backfill records in ranges
 * of their own, per tenant, cut once the import stops adding to them, as
 * Prometheus places backfilled blocks beside its own. The log keeps what is
 * written twice, and an import run twice gives overlapping blocks with the
 * same samples, which queries read once.
 */
import {
  DEFAULT_BLOCK_DURATION,
  formatLabels,
  type Label,
  openTextInput,
  StorageError,
  type TextFormat,
  TextSampleParser,
} from '@promstream/storage';
import { MigrateError } from './errors.js';
import { checkTenant } from './import-blocks.js';
import { checkRemoteRead, readWindows } from './import-remote-read.js';

/** One series of a write to the log, the shape ingest's sample sink takes. */
export interface LogSeries {
  labels: Label[];
  timestamps: number[];
  values: number[];
  histograms: never[];
  exemplars: number;
}

/** Where series go: ingest's LogSampleSink marking records as backfill; resolves once the log holds them. */
export interface SeriesSink {
  write(tenant: string, series: readonly LogSeries[]): Promise<{ records: number; bytes: number }>;
}

/** Progress and result of an import onto the log. */
export interface LogImportProgress {
  samples: number;
  records: number;
  bytes: number;
}

/** What an import onto the log did. */
export interface LogImportResult extends LogImportProgress {
  seconds: number;
}

/** Options shared by the imports onto the log. */
export interface ToLogOptions {
  tenant?: string;
  /** Samples per write at most (default 100000). */
  batchSamples?: number;
  onProgress?: (p: LogImportProgress) => void;
}

/** Buffers series and writes them to the sink in batches of about `limit` samples. */
class Batcher {
  private readonly series = new Map<string | number, LogSeries>();
  private buffered = 0;
  readonly done: LogImportProgress = { samples: 0, records: 0, bytes: 0 };

  constructor(
    private readonly sink: SeriesSink,
    private readonly tenant: string,
    private readonly limit: number,
    private readonly onProgress?: (p: LogImportProgress) => void,
  ) {}

  /** Adds a sample of the series `key` names; true once a batch is full and should be flushed. */
  add(key: string | number, labels: readonly Label[], t: number, v: number): boolean {
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels: [...labels], timestamps: [], values: [], histograms: [], exemplars: 0 };
      this.series.set(key, s);
    }
    s.timestamps.push(t);
    s.values.push(v);
    return ++this.buffered >= this.limit;
  }

  async flush(): Promise<void> {
    if (this.buffered === 0) return;
    const list = [...this.series.values()];
    let r: { records: number; bytes: number };
    try {
      r = await this.sink.write(this.tenant, list);
    } catch (e) {
      throw new MigrateError('DESTINATION_WRITE', `write ${this.buffered} samples to the log`, { cause: e });
    }
    this.done.samples += this.buffered;
    this.done.records += r.records;
    this.done.bytes += r.bytes;
    this.series.clear();
    this.buffered = 0;
    this.onProgress?.({ ...this.done });
  }
}

/** Options of importOpenMetricsToLog. */
export interface TextToLogOptions extends ToLogOptions {
  /** Input format, or 'auto' (default) to detect it. */
  format?: TextFormat | 'auto';
  /** Count and skip malformed lines instead of stopping at the first. */
  skipBadLines?: boolean;
}

/**
 * Streams a text input through the parser; `each` runs after every chunk
 * (and after the end) while the parser sits on its next sample.
 */
async function streamText(
  file: string,
  options: TextToLogOptions,
  each: (parser: TextSampleParser) => Promise<void>,
): Promise<TextSampleParser> {
  let input: AsyncIterable<Uint8Array>;
  try {
    input = (await openTextInput(file)).input;
  } catch (e) {
    throw new MigrateError('SOURCE_READ', `read ${file}`, { cause: e });
  }
  const parser = new TextSampleParser({ format: options.format, skipBadLines: options.skipBadLines });
  try {
    for await (const chunk of input) {
      parser.feed(chunk);
      await each(parser);
    }
    parser.end();
    await each(parser);
  } catch (e) {
    if (e instanceof MigrateError) throw e;
    if (e instanceof StorageError && e.code === 'invalid_argument') {
      throw new MigrateError('BAD_INPUT', `parse ${file}: ${e.message}`, { cause: e });
    }
    throw new MigrateError('SOURCE_READ', `read ${file}`, { cause: e });
  }
  return parser;
}

/**
 * Writes the samples of an OpenMetrics or Prometheus text file ('-' for
 * stdin) onto the log, streaming it. A file is read twice: once to check
 * every line, so a file that does not parse writes nothing, then to write.
 * Stdin is read once; a bad line there stops the import after the batches
 * before it (unless bad lines are skipped).
 */
export async function importOpenMetricsToLog(
  file: string,
  sink: SeriesSink,
  options: TextToLogOptions = {},
): Promise<LogImportResult & { badLines: number }> {
  const started = performance.now();
  const tenant = checkTenant(options.tenant ?? 'anonymous');
  if (file !== '-' && options.skipBadLines !== true) {
    await streamText(file, options, async (p) => {
      p.skipAll();
    });
  }
  const batcher = new Batcher(sink, tenant, options.batchSamples ?? 100_000, options.onProgress);
  const parser = await streamText(file, options, async (p) => {
    while (p.next()) {
      if (batcher.add(p.ref, p.series.labels(p.ref), p.t, p.v)) await batcher.flush();
    }
  });
  await batcher.flush();
  return { ...batcher.done, badLines: parser.badLines, seconds: (performance.now() - started) / 1000 };
}

/** Reads [from, to) of the selected series from a Prometheus by remote read and writes them onto the log. */
export async function importRemoteReadToLog(
  url: string,
  sink: SeriesSink,
  options: ToLogOptions & { from: number; to: number; match: readonly string[]; fetch?: typeof fetch },
): Promise<LogImportResult> {
  const started = performance.now();
  const tenant = checkTenant(options.tenant ?? 'anonymous');
  const matchers = checkRemoteRead(options);
  const batcher = new Batcher(sink, tenant, options.batchSamples ?? 100_000, options.onProgress);
  for await (const { series } of readWindows(url, matchers, DEFAULT_BLOCK_DURATION, options)) {
    for (const s of series) {
      const key = formatLabels(s.labels);
      for (let i = 0; i < s.t.length; i++) {
        if (batcher.add(key, s.labels, s.t[i]!, s.v[i]!)) await batcher.flush();
      }
    }
    await batcher.flush();
  }
  await batcher.flush();
  return { ...batcher.done, seconds: (performance.now() - started) / 1000 };
}
