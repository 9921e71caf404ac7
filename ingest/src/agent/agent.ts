import os from 'node:os';
import path from 'node:path';
import { tenantIdProblem } from '@promstream/storage';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { IngestError, IngestErrorCode } from '../errors.js';
import type { EventSink } from '../log/event-sink.js';
import type { SampleBatchSink } from '../log/sample-sink.js';
import { startAgentHttp } from './agent-http.js';
import { agentMetrics } from './agent-metrics.js';
import { DiskBuffer } from './buffer/disk-buffer.js';
import { Collection } from './collection.js';
import { type Collector, type HostPaths, hostCollectors, hostPaths } from './collectors/index.js';
import type { AgentEvent } from './events/event.js';
import { startKernelSource } from './events/kernel-source.js';
import { PluginRunner, type PluginSpec } from './plugins.js';
import { detectReboot } from './reboot.js';
import { RecentStore } from './recent-store.js';
import type { ScrapeTarget } from './scrape/scraper.js';
import { BufferShipper } from './shipper.js';

export { refusedForGood } from './shipper.js';

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
  const tenant = options.tenant ?? 'anonymous';
  // The agent writes for one configured tenant: a bad one is refused at start, before anything is buffered.
  const tenantProblem = tenantIdProblem(tenant);
  if (tenantProblem !== undefined)
    throw new IngestError(IngestErrorCode.InvalidConfig, `the agent's tenant: ${tenantProblem}`);
  const paths = options.paths ?? hostPaths;
  const intervalMs = options.intervalMs ?? 15_000;
  const buffer = new DiskBuffer({
    dir: path.join(options.dataDir, 'buffer'),
    maxBytes: options.bufferBytes ?? 256 << 20,
  });
  const recent = new RecentStore(options.retentionMs ?? 15 * 60_000);
  const registry = new Registry();
  const metrics = agentMetrics(registry, buffer);
  const shipper = new BufferShipper({
    buffer,
    tenant,
    samples: options.samples,
    backfillSamples: options.backfillSamples,
    backfillAfterMs: options.backfillAfterMs ?? 60_000,
    events: options.events,
    metrics,
    logger,
    now,
  });
  const emit = (event: AgentEvent) => {
    metrics.events.inc({ kind: event.kind });
    shipper.append({ kind: 'event', event });
  };
  const collection = new Collection({
    collectors: options.collectors ?? hostCollectors,
    paths,
    scrapeTargets: options.scrapeTargets ?? [],
    instance: host,
    job: options.job ?? 'node',
    recent,
    metrics,
    logger,
    now,
    onSeries: (series) => shipper.append({ kind: 'samples', series }),
  });
  const bootTime = detectReboot({ paths, dataDir: options.dataDir, host, emit });
  const plugins = (options.plugins ?? []).map(
    (spec) => new PluginRunner({ spec, host, logger, now, onSeries: collection.push, onEvent: emit }),
  );
  collection.plugins = plugins;
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

  const listenHost = options.listenHost ?? '127.0.0.1';
  const { app, port } = await startAgentHttp({
    logger,
    registry,
    latest: () => collection.latest,
    recent,
    now,
    host: listenHost,
    port: options.port ?? 9100,
  });
  const collect = () => collection.collect();
  const flush = () => shipper.flush();
  const ticker = startTicker(intervalMs, async () => {
    try {
      await collect();
      await flush();
    } catch (err) {
      logger.error({ err }, 'agent tick failed');
    }
  });

  return {
    url: `http://${listenHost}:${port}`,
    port,
    app,
    registry,
    collect,
    flush,
    emit,
    async close() {
      ticker.stop();
      stopKernel();
      for (const p of plugins) p.stop();
      await app.close();
      await shipper.idle();
      buffer.close();
      await options.onClose?.();
    },
  };
}

/** Runs `tick` now and then `intervalMs` after each run ended, until stopped; 0 never runs it. */
function startTicker(intervalMs: number, tick: () => Promise<void>): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const run = async () => {
    await tick();
    if (!stopped) timer = setTimeout(run, intervalMs);
  };
  if (intervalMs > 0) timer = setTimeout(run, 0);
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
