import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createLogWriters,
  encodeV1,
  type Gateway,
  type LogWriters,
  startGateway,
  type WriteSeries,
} from '@promstream/ingest';
import {
  createSerdes,
  type Event,
  partitionFor,
  type RunningRegistry,
  type SampleBatch,
  type Serdes,
  seriesKey,
  startRegistry,
} from '@promstream/schemas';
import {
  BlockReader,
  encodeXorChunk,
  type Labels,
  listAll,
  type ObjectStore,
  objectStoreFromUrl,
  ValueType,
} from '@promstream/storage';
import {
  type BlockBuilder,
  listDeadLetters,
  type RetryPolicy,
  runBlockBuilder,
  type StoredDeadLetter,
} from '@promstream/stream-processors';
import { freePort, type LogBackend, realKafka, startEmbeddedBroker } from '@promstream/testkit';
import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import { pino } from 'pino';
import snappy from 'snappy';

/** The logs an end-to-end suite runs on, as the other suites pick them. */
export function logBackends(): {
  name: string;
  enabled: boolean;
  reason: string;
  start(): Promise<LogBackend>;
}[] {
  const real = realKafka();
  return [
    {
      name: 'Apache Kafka',
      enabled: real.ok,
      reason: real.ok ? '' : real.reason,
      start: async () => {
        if (!real.ok) throw new Error(real.reason);
        return real.backend;
      },
    },
    {
      name: 'the embedded broker',
      enabled: true,
      reason: '',
      start: async () => {
        const b = await startEmbeddedBroker();
        if (!b.ok) throw new Error(b.reason);
        return b.backend;
      },
    },
  ];
}

/** Block duration and out-of-order window of the end-to-end pipelines: short, so blocks come quickly. */
export const BLOCK = 2000;
export const WINDOW = 1000;
export const PARTITIONS = 3;

/** A float series for remote write, labels sorted by name. */
export function series(labels: Record<string, string>, t: number[], v: number[]): WriteSeries {
  return {
    labels: Object.entries(labels)
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    timestamps: t,
    values: v,
    histograms: [],
    exemplars: 0,
  };
}

/** Samples of a tenant in a bucket's blocks, by series, sorted by time; each time once per block it is in. */
export async function readBlocks(
  store: ObjectStore,
  tenant: string,
): Promise<Map<string, [number, number][]>> {
  const out = new Map<string, [number, number][]>();
  const metas = (await listAll(store, `${tenant}/`, { recursive: true })).filter((o) =>
    o.key.endsWith('/meta.json'),
  );
  for (const meta of metas) {
    const reader = await BlockReader.open(store, meta.key.slice(0, -'/meta.json'.length));
    for (const s of await reader.select(
      [{ type: '=~', name: '__name__', value: '.+', matches: () => true }],
      -Infinity,
      Infinity,
    )) {
      const key = s.labels.map((l) => `${l.name}=${l.value}`).join(',');
      const it = s.iterator();
      const pts = out.get(key) ?? [];
      while (it.next() === ValueType.Float) pts.push([it.atT(), it.at()]);
      out.set(key, pts);
    }
  }
  for (const pts of out.values()) pts.sort((a, b) => a[0] - b[0]);
  return out;
}

/** Options of a pipeline. */
export interface PipelineOptions {
  /** The registry URL the block builder reads schemas from (a fault-injecting proxy), default the registry's. */
  builderRegistryUrl?: (registryUrl: string) => string;
  retry?: RetryPolicy;
  backfillIdle?: number;
}

/**
 * One pipeline on a log: the embedded registry, a remote-write gateway, the
 * block builder into a filesystem bucket, each on topics no other run uses.
 */
export class Pipeline {
  readonly id = randomUUID().slice(0, 8);
  readonly samplesTopic = `e2e-samples-${this.id}`;
  readonly eventsTopic = `e2e-events-${this.id}`;
  readonly deadLetterTopic = `e2e-dlq-${this.id}`;
  readonly groupId = `e2e-bb-${this.id}`;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'promstream-e2e-'));
  readonly storeUrl = `file://${this.dir}`;
  readonly store: ObjectStore = objectStoreFromUrl(this.storeUrl);
  registry!: RunningRegistry;
  serdes!: Serdes;
  writers!: LogWriters;
  gateway!: Gateway;
  kafka!: Kafka;
  admin!: Admin;
  producer!: Producer;
  builder: BlockBuilder | undefined;
  private ticking: NodeJS.Timeout | undefined;
  private tickSeries: WriteSeries[] = [];

  constructor(
    readonly brokers: string[],
    readonly options: PipelineOptions = {},
  ) {}

  async start(): Promise<this> {
    const logger = pino({ level: 'silent' });
    this.registry = await startRegistry({
      brokers: this.brokers,
      port: await freePort(),
      topic: `_schemas-${this.id}`,
    });
    this.serdes = createSerdes({ registryUrl: this.registry.url });
    this.writers = createLogWriters({
      brokers: this.brokers,
      registryUrl: this.registry.url,
      samplesTopic: this.samplesTopic,
      eventsTopic: this.eventsTopic,
      samplePartitions: PARTITIONS,
      eventPartitions: 1,
      logger,
    });
    this.gateway = await startGateway({ sink: this.writers.samples, port: 0, logger });
    this.kafka = new Kafka({ clientId: 'e2e', brokers: this.brokers, logLevel: logLevel.NOTHING });
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.admin.createTopics({
      topics: [
        { topic: this.samplesTopic, numPartitions: PARTITIONS },
        { topic: this.eventsTopic, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    this.producer = this.kafka.producer();
    await this.producer.connect();
    // One tick series per partition, so ticks move every partition's clock.
    for (let i = 0; this.tickSeries.length < PARTITIONS; i++) {
      const s = series({ __name__: 'e2e_tick', n: String(i) }, [0], [0]);
      if (
        !this.tickSeries.some(
          (x) => partitionFor(x.labels, PARTITIONS) === partitionFor(s.labels, PARTITIONS),
        )
      )
        this.tickSeries.push(s);
    }
    return this;
  }

  /** Starts (or restarts) the block builder on the pipeline's group. */
  async startBuilder(): Promise<BlockBuilder> {
    this.builder = await runBlockBuilder({
      brokers: this.brokers,
      registryUrl: this.options.builderRegistryUrl?.(this.registry.url) ?? this.registry.url,
      storeUrl: this.storeUrl,
      topic: this.samplesTopic,
      groupId: this.groupId,
      blockDuration: BLOCK,
      outOfOrderWindow: WINDOW,
      backfillIdle: this.options.backfillIdle ?? 2000,
      deadLetterTopic: this.deadLetterTopic,
      eventsTopic: this.eventsTopic,
      retry: this.options.retry ?? { recheckAttempts: 2, recheckDelayMs: 100 },
      logger: pino({ level: 'silent' }),
    });
    return this.builder;
  }

  /** A remote write 1.0 through the gateway; resolves to the HTTP status. */
  async write(tenant: string | undefined, body: WriteSeries[]): Promise<number> {
    const res = await fetch(`${this.gateway.url}/api/v1/write`, {
      method: 'POST',
      body: snappy.compressSync(Buffer.from(encodeV1(body))),
      headers: {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        ...(tenant === undefined ? {} : { 'x-scope-orgid': tenant }),
      },
    });
    await res.arrayBuffer();
    return res.status;
  }

  /** SampleBatch records written straight onto the samples topic, as a client bypassing the gateway would. */
  async writeRaw(
    tenant: string,
    body: { labels: Labels; t: number[]; v: number[] }[],
    value?: (v: Buffer) => Buffer,
  ): Promise<{ partition: number; value: Buffer }[]> {
    const messages = [];
    for (const s of body) {
      const batch: SampleBatch = {
        tenant,
        producedAt: Date.now(),
        series: [
          {
            labels: [...s.labels],
            minTime: Math.min(...s.t),
            maxTime: Math.max(...s.t),
            encoding: 'XOR',
            chunk: Buffer.from(encodeXorChunk(s.t, s.v)),
            histograms: [],
          },
        ],
      };
      const bytes = await this.serdes.sampleBatch.serialize(this.samplesTopic, batch);
      messages.push({
        key: seriesKey(s.labels),
        value: value === undefined ? bytes : value(bytes),
        partition: partitionFor(s.labels, PARTITIONS),
      });
    }
    await this.producer.send({ topic: this.samplesTopic, acks: -1, messages });
    return messages.map((m) => ({ partition: m.partition, value: m.value }));
  }

  /** Writes one tick per partition every 200 ms through the gateway, so every partition's clock moves on. */
  startTicks(): void {
    this.ticking ??= setInterval(() => {
      const now = Date.now();
      void this.write(
        'ticks',
        this.tickSeries.map((s) => ({ ...s, timestamps: [now], values: [now] })),
      ).catch(() => {});
    }, 200);
  }

  stopTicks(): void {
    if (this.ticking !== undefined) clearInterval(this.ticking);
    this.ticking = undefined;
  }

  /** Waits until every partition's live boundary is past `time` (its range is in blocks); resolves to the ms waited. */
  async waitForBoundary(time: number, timeoutMs = 45_000): Promise<number> {
    const started = Date.now();
    for (;;) {
      const status = this.builder?.status() ?? [];
      if (status.length === PARTITIONS && status.every((p) => p.boundary > time && p.committed >= 0))
        return Date.now() - started;
      if (Date.now() - started > timeoutMs)
        throw new Error(`boundary not past ${time} after ${timeoutMs} ms: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The dead letters of this pipeline's builder. */
  deadLetters(): Promise<StoredDeadLetter[]> {
    return listDeadLetters({ brokers: this.brokers, topic: this.deadLetterTopic });
  }

  /** The Events on the events topic (dead letters are reported there). */
  async events(count: number, timeoutMs = 20_000): Promise<Event[]> {
    const consumer = this.kafka.consumer({ groupId: `e2e-events-${randomUUID()}` });
    const out: Event[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: this.eventsTopic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          out.push(await this.serdes.event.deserialize(this.eventsTopic, message.value!));
          if (out.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    return out;
  }

  /** The end offset of each partition of the samples topic. */
  async ends(): Promise<number[]> {
    const offsets = await this.admin.fetchTopicOffsets(this.samplesTopic);
    return offsets.sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
  }

  async close(): Promise<void> {
    this.stopTicks();
    await this.builder?.stop().catch(() => {});
    await this.gateway?.close().catch(() => {});
    await this.writers?.producer.close().catch(() => {});
    await this.producer?.disconnect().catch(() => {});
    await this.admin
      ?.deleteTopics({ topics: [this.samplesTopic, this.eventsTopic, this.deadLetterTopic] })
      .catch(() => {});
    await this.admin?.disconnect().catch(() => {});
    await this.registry?.close().catch(() => {});
    if (process.env.KEEP_E2E === undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A proxy in front of a registry that can answer schema lookups by id
 * wrongly: `missing` answers 404 (no such id), `string` answers the schema
 * `"string"` (an id reused for another schema), `pass` forwards.
 */
export class FaultyRegistry {
  mode: 'pass' | 'missing' | 'string' = 'pass';
  lookups = 0;
  private server: Server | undefined;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const byId = /^\/schemas\/ids\/\d+/.test(req.url ?? '');
      if (byId) this.lookups++;
      if (byId && this.mode === 'missing') {
        res.writeHead(404, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        res.end(JSON.stringify({ error_code: 40403, message: 'Schema not found' }));
        return;
      }
      if (byId && this.mode === 'string') {
        res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        res.end(JSON.stringify({ schema: '"string"' }));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void fetch(`${this.target}${req.url}`, {
          method: req.method,
          headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
          body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks),
        })
          .then(async (r) => {
            res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
            res.end(Buffer.from(await r.arrayBuffer()));
          })
          .catch(() => {
            res.writeHead(502);
            res.end();
          });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    return this;
  }

  async close(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}
