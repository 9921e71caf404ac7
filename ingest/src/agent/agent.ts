import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { SchemaError, SchemaErrorCode } from '@promstream/schemas';
import { tenantIdProblem } from '@promstream/storage';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { IngestError, IngestErrorCode, isIngestError } from '../errors.js';
import type { SampleBatchSink, SinkResult } from '../log/sample-sink.js';
import type { WriteSeries } from '../remote-write/types.js';
import { defaultLimits, knownNames, validateSeries } from '../remote-write/validate.js';
import { DiskBuffer } from './buffer/disk-buffer.js';
import {
  type Collector,
  type HostPaths,
  hostCollectors,
  hostPaths,
  type MetricFamily,
} from './collectors/index.js';
import type { AgentEvent } from './events/event.js';
import { startKernelSource } from './events/kernel-source.js';
import { familiesToSeries, formatText } from './exposition.js';
import { PluginRunner, type PluginSpec } from './plugins.js';
import { RecentStore } from './recent-store.js';
import { type ScrapeTarget, scrapeTarget } from './scrape/scraper.js';

/** Where agent events go (the `promstream.events.v1` topic in production). */
export interface EventSink {
  /** Resolves once the log holds every event. */
  write(events: readonly AgentEvent[]): Promise<SinkResult>;
}

/** Options of the node agent. */
export interface AgentOptions {
  samples: SampleBatchSink;
  /**
   * Where samples go that are sent more than `backfillAfterMs` after they
   * were collected (the buffer held them through a log outage): a sink that
   * marks its records as backfill, so the block builder places them however
   * old they are by now. Without it, late samples go to `samples`.
   */
  backfillSamples?: SampleBatchSink;
  /** How late a sample may be sent through `samples`, ms (default 60 s). */
  backfillAfterMs?: number;
  events: EventSink;
  /** Directory for the disk buffer and the agent's state. */
  dataDir: string;
  tenant?: string;
  /** Host name put on series (`instance`) and events. */
  host?: string;
  job?: string;
  intervalMs?: number;
  port?: number;
  listenHost?: string;
  bufferBytes?: number;
  collectors?: readonly Collector[];
  paths?: HostPaths;
  scrapeTargets?: ScrapeTarget[];
  plugins?: PluginSpec[];
  /** Path of the kernel log, or false to leave it off. */
  kernelLog?: string | false;
  /** How long the local query API keeps samples. */
  retentionMs?: number;
  logger?: Logger;
  now?: () => number;
  /** Closed with the agent when given. */
  onClose?: () => Promise<void>;
}

/** A running agent. */
export interface Agent {
  url: string;
  port: number;
  app: FastifyInstance;
  registry: Registry;
  /** Runs one collection now and appends it to the buffer. */
  collect(): Promise<void>;
  /** Sends what the buffer holds; resolves with the number of entries delivered. */
  flush(): Promise<number>;
  /** Queues an event for the log (through the buffer). */
  emit(event: AgentEvent): void;
  close(): Promise<void>;
}

type Entry = { kind: 'samples'; series: WriteSeries[] } | { kind: 'event'; event: AgentEvent };

/**
 * Starts the node agent: every interval it runs the host collectors, scrapes
 * the configured exporters and asks its plugins, appends all of it to the
 * disk buffer, and sends the buffer to the log in order, deleting an entry
 * only once the log acknowledged it. Serves `/metrics` (what it collects, and
 * its own metrics) and `/api/v1/recent` (its recent samples) over HTTP.
 */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const logger = options.logger ?? pino({ name: 'agent' });
  const now = options.now ?? Date.now;
  const host = options.host ?? os.hostname();
  const job = options.job ?? 'node';
  const tenant = options.tenant ?? 'anonymous';
  // The agent writes for one configured tenant: a bad one is refused at start, before anything is buffered.
  const tenantProblem = tenantIdProblem(tenant);
  if (tenantProblem !== undefined)
    throw new IngestError(IngestErrorCode.InvalidConfig, `the agent's tenant: ${tenantProblem}`);
  const paths = options.paths ?? hostPaths;
  const collectors = options.collectors ?? hostCollectors;
  const intervalMs = options.intervalMs ?? 15_000;
  const buffer = new DiskBuffer({
    dir: path.join(options.dataDir, 'buffer'),
    maxBytes: options.bufferBytes ?? 256 << 20,
  });
  const recent = new RecentStore(options.retentionMs ?? 15 * 60_000);
  let latest: MetricFamily[] = [];

  const registry = new Registry();
  const m = {
    collectorSuccess: new Gauge({
      name: 'node_scrape_collector_success',
      help: 'Whether a collector succeeded.',
      labelNames: ['collector'],
      registers: [registry],
    }),
    collectorDuration: new Gauge({
      name: 'node_scrape_collector_duration_seconds',
      help: 'Duration of a collector scrape.',
      labelNames: ['collector'],
      registers: [registry],
    }),
    bufferBytes: new Gauge({
      name: 'promstream_agent_buffer_bytes',
      help: 'Bytes in the disk buffer.',
      registers: [registry],
      collect() {
        this.set(buffer.bytes());
      },
    }),
    bufferDropped: new Gauge({
      name: 'promstream_agent_buffer_dropped_entries_total',
      help: 'Entries dropped, oldest first, because the disk buffer was full.',
      registers: [registry],
      collect() {
        this.set(buffer.dropped);
      },
    }),
    sentEntries: new Counter({
      name: 'promstream_agent_sent_entries_total',
      help: 'Buffered entries acknowledged by the log, by kind.',
      labelNames: ['kind'],
      registers: [registry],
    }),
    sendFailures: new Counter({
      name: 'promstream_agent_send_failures_total',
      help: 'Attempts to send the buffer that the log did not acknowledge.',
      registers: [registry],
    }),
    invalid: new Counter({
      name: 'promstream_agent_invalid_series_total',
      help: 'Collected series dropped because they break the label rules the gateway enforces.',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'promstream_agent_rejected_entries_total',
      help: 'Buffered entries the log side refused for good (not an outage), dropped so the buffer moves on.',
      labelNames: ['kind'],
      registers: [registry],
    }),
    samples: new Counter({
      name: 'promstream_agent_samples_collected_total',
      help: 'Samples collected.',
      registers: [registry],
    }),
    events: new Counter({
      name: 'promstream_agent_events_total',
      help: 'Events observed, by kind.',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };

  const append = (entry: Entry) => buffer.append(serialize(entry));
  const emit = (event: AgentEvent) => {
    m.events.inc({ kind: event.kind });
    append({ kind: 'event', event });
  };
  // Invalid series (a plugin or exporter with a bad name) are dropped here,
  // so one of them can never block the buffer.
  const known = knownNames();
  const pushSeries = (collected: WriteSeries[]) => {
    const series = collected.filter((s) => {
      try {
        validateSeries(s, defaultLimits, known);
        return true;
      } catch (err) {
        m.invalid.inc();
        logger.debug({ reason: (err as Error).message }, 'dropped an invalid series');
        return false;
      }
    });
    if (series.length === 0) return;
    m.samples.inc(series.length);
    recent.add(series, now());
    append({ kind: 'samples', series });
  };

  // A boot time different from the one saved last run means the host rebooted.
  const statePath = path.join(options.dataDir, 'agent-state.json');
  const bootTime = readBootTime(paths);
  if (bootTime !== undefined) {
    const previous = existsSync(statePath)
      ? (JSON.parse(readFileSync(statePath, 'utf8')) as { bootTime?: number })
      : {};
    if (previous.bootTime !== undefined && previous.bootTime !== bootTime) {
      emit({
        time: bootTime,
        host,
        source: 'os',
        kind: 'reboot',
        severity: 'notice',
        message: `host booted at ${new Date(bootTime).toISOString()}`,
        attributes: { previous_boot: new Date(previous.bootTime).toISOString() },
      });
    }
    writeFileSync(statePath, JSON.stringify({ bootTime }));
  }

  const plugins = (options.plugins ?? []).map(
    (spec) => new PluginRunner({ spec, host, logger, now, onSeries: pushSeries, onEvent: emit }),
  );
  const stopKernel =
    options.kernelLog === false
      ? () => {}
      : startKernelSource({
          host,
          bootTime: bootTime ?? 0,
          emit,
          logger,
          path: options.kernelLog,
          since: now(),
        });

  async function collect(): Promise<void> {
    const t = now();
    const families: MetricFamily[] = [];
    for (const c of collectors) {
      const started = performance.now();
      try {
        families.push(...(await c.collect(paths)));
        m.collectorSuccess.set({ collector: c.name }, 1);
      } catch (err) {
        m.collectorSuccess.set({ collector: c.name }, 0);
        logger.warn({ collector: c.name, err: (err as Error).message }, 'collector failed');
      }
      m.collectorDuration.set({ collector: c.name }, (performance.now() - started) / 1000);
    }
    latest = families;
    pushSeries(familiesToSeries(families, t, { instance: host, job }));
    for (const target of options.scrapeTargets ?? []) pushSeries(await scrapeTarget(target, t));
    for (const p of plugins) p.collect();
  }

  /**
   * Sends buffered sample entries, oldest first: those collected longer than
   * `backfillAfterMs` ago through the backfill sink (a live range of their
   * time may be cut by now), the rest through the live one.
   */
  async function writeSamples(entries: WriteSeries[][]): Promise<void> {
    const lateBefore = now() - (options.backfillAfterMs ?? 60_000);
    const newest = (series: WriteSeries[]) =>
      series.reduce((m, s) => Math.max(m, s.timestamps[s.timestamps.length - 1] ?? -Infinity), -Infinity);
    let late = 0;
    if (options.backfillSamples !== undefined)
      while (late < entries.length && newest(entries[late]!) < lateBefore) late++;
    if (late > 0) await options.backfillSamples!.write(tenant, entries.slice(0, late).flat());
    if (late < entries.length) await options.samples.write(tenant, entries.slice(late).flat());
  }

  let flushing: Promise<number> | undefined;
  async function flushOnce(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const entries = buffer.peek(64);
      if (entries.length === 0) return delivered;
      // Send runs of one kind together, in buffer order.
      let i = 0;
      while (i < entries.length) {
        const first = deserialize(entries[i]!.payload) as Entry;
        let j = i + 1;
        const decoded: Entry[] = [first];
        while (j < entries.length) {
          const e = deserialize(entries[j]!.payload) as Entry;
          if (e.kind !== first.kind) break;
          decoded.push(e);
          j++;
        }
        try {
          if (first.kind === 'samples') {
            await writeSamples(decoded.flatMap((e) => (e.kind === 'samples' ? [e.series] : [])));
          } else {
            await options.events.write(decoded.flatMap((e) => (e.kind === 'event' ? [e.event] : [])));
          }
        } catch (err) {
          if (!refusedForGood(err)) {
            m.sendFailures.inc();
            logger.warn({ err: (err as Error).message }, 'log unavailable; keeping the buffer');
            return delivered;
          }
          // A record the schema refuses fails the same way on every retry: drop
          // these entries rather than stall everything behind them.
          m.rejected.inc({ kind: first.kind }, j - i);
          logger.error({ err }, 'entries refused for good; dropped');
          buffer.ack(entries[j - 1]!);
          i = j;
          continue;
        }
        buffer.ack(entries[j - 1]!);
        m.sentEntries.inc({ kind: first.kind }, j - i);
        delivered += j - i;
        i = j;
      }
    }
  }
  const flush = (): Promise<number> => {
    flushing ??= flushOnce().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };

  const app: FastifyInstance = Fastify({
    loggerInstance: logger.child({}, { level: 'warn' }) as FastifyBaseLogger,
  });
  app.get('/metrics', async (_req, reply) =>
    reply
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(formatText(latest) + (await registry.metrics())),
  );
  app.get('/api/v1/recent', async (req) => {
    const query = { ...(req.query as Record<string, string>) };
    const since = Number(query.since ?? now() - 5 * 60_000);
    delete query.since;
    return { status: 'success', data: recent.select(query, since) };
  });
  app.get('/-/ready', async () => 'ready\n');
  await app.listen({ port: options.port ?? 9100, host: options.listenHost ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 9100);

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      await collect();
      await flush();
    } catch (err) {
      logger.error({ err }, 'agent tick failed');
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  if (intervalMs > 0) timer = setTimeout(tick, 0);

  return {
    url: `http://${options.listenHost ?? '127.0.0.1'}:${port}`,
    port,
    app,
    registry,
    collect,
    flush,
    emit,
    async close() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      stopKernel();
      for (const p of plugins) p.stop();
      await app.close();
      await flushing;
      buffer.close();
      await options.onClose?.();
    },
  };
}

/** Whether an error of a write can never succeed on retry (anything unknown is retried). */
export function refusedForGood(err: unknown): boolean {
  if (err instanceof SchemaError) return err.code === SchemaErrorCode.InvalidRecord;
  return isIngestError(err) && !err.retryable;
}

function readBootTime(paths: HostPaths): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync(path.join(paths.proc, 'stat'), 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1000;
  } catch {
    return undefined;
  }
}
