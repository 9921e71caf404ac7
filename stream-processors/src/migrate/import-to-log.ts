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
import { readFile } from 'node:fs/promises';
import { DEFAULT_BLOCK_DURATION, formatLabels, type Label, parseOpenMetrics } from '@promstream/storage';
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
  private readonly series = new Map<string, LogSeries>();
  private buffered = 0;
  readonly done: LogImportProgress = { samples: 0, records: 0, bytes: 0 };

  constructor(
    private readonly sink: SeriesSink,
    private readonly tenant: string,
    private readonly limit: number,
    private readonly onProgress?: (p: LogImportProgress) => void,
  ) {}

  async add(labels: readonly Label[], t: number, v: number): Promise<void> {
    const key = formatLabels(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels: [...labels], timestamps: [], values: [], histograms: [], exemplars: 0 };
      this.series.set(key, s);
    }
    s.timestamps.push(t);
    s.values.push(v);
    if (++this.buffered >= this.limit) await this.flush();
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

/** Writes the samples of an OpenMetrics file onto the log. */
export async function importOpenMetricsToLog(
  file: string,
  sink: SeriesSink,
  options: ToLogOptions = {},
): Promise<LogImportResult> {
  const started = performance.now();
  const tenant = checkTenant(options.tenant ?? 'anonymous');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new MigrateError('SOURCE_READ', `read ${file}`, { cause: e });
  }
  const batcher = new Batcher(sink, tenant, options.batchSamples ?? 100_000, options.onProgress);
  const samples = (() => {
    try {
      // Parse everything first: a file that does not parse writes nothing.
      return [...parseOpenMetrics(text)];
    } catch (e) {
      throw new MigrateError('BAD_INPUT', `parse OpenMetrics ${file}`, { cause: e });
    }
  })();
  for (const s of samples) await batcher.add(s.labels, s.t, s.v);
  await batcher.flush();
  return { ...batcher.done, seconds: (performance.now() - started) / 1000 };
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
    for (const s of series)
      for (let i = 0; i < s.t.length; i++) await batcher.add(s.labels, s.t[i]!, s.v[i]!);
    await batcher.flush();
  }
  await batcher.flush();
  return { ...batcher.done, seconds: (performance.now() - started) / 1000 };
}
