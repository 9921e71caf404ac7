import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { FAULT_ENV, FAULT_REPORT_PREFIX, type FaultReport } from '@promstream/infra';
import { partitionFor, type Serdes, seriesKey } from '@promstream/schemas';
import { BlockReader, encodeXorChunk, listAll, type ObjectStore, ValueType } from '@promstream/storage';
import { repoRoot } from '@promstream/testkit';
import type { Admin, Producer } from 'kafkajs';

// The pieces of the block builder crash test: builder processes armed with a
// fault point, the load that feeds them, and the read-back of every block.

const cli = path.join(repoRoot, 'bin', 'promstream.js');

/** The tenant every record of the load carries. */
export const TENANT = 'crash';
/** Block range of the builders under test, ms. */
export const BLOCK = 5000;
/** Simulated time one round of the load covers, ms. */
export const ROUND = 1000;
/** Samples per ordinary series per round (every 100 ms). */
const STEP = 100;
/** Series of the wide burst, and samples each per round (every 1 ms): enough for a multipart chunk file. */
const WIDE_SERIES = 160;
const WIDE_PER_RECORD = 20;

/** Where and how every builder of one run connects. */
export interface BuilderArgs {
  brokers: string[];
  registryUrl: string;
  storeUrl: string;
  topic: string;
  groupId: string;
  deadLetterTopic: string;
  /** Environment of the child (object store credentials). */
  env: NodeJS.ProcessEnv;
}

/** One `promstream block-builder` process. */
export interface Instance {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** What the process wrote just before its fault point killed it. */
  report(): FaultReport | undefined;
}

/** Starts a builder; `fault` arms one fault point (`<point>[:<hit>]`). */
export function spawnBuilder(args: BuilderArgs, name: string, fault?: string): Instance {
  // CRASH_DEBUG_DIR=<dir> keeps each builder's info log there, to see why a run failed.
  const debugDir = process.env.CRASH_DEBUG_DIR;
  const log =
    debugDir === undefined
      ? 'ignore'
      : openSync(path.join(debugDir, `${name.replace(/\W+/g, '_')}.log`), 'w');
  const child = spawn(
    process.execPath,
    [
      cli,
      'block-builder',
      ...['--brokers', args.brokers.join(','), '--registry', args.registryUrl, '--store', args.storeUrl],
      ...['--topic', args.topic, '--group-id', args.groupId, '--dead-letter-topic', args.deadLetterTopic],
      ...['--block-duration', `${BLOCK}ms`, '--out-of-order-window', '1s', '--session-timeout', '6s'],
      ...['--log-level', debugDir === undefined ? 'warn' : 'info'],
    ],
    { stdio: ['ignore', log, 'pipe'], env: { ...process.env, ...args.env, [FAULT_ENV]: fault ?? '' } },
  );
  if (typeof log === 'number') closeSync(log);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    name,
    child,
    exited,
    stderr: () => err,
    report: () => {
      const line = err.split('\n').find((l) => l.startsWith(FAULT_REPORT_PREFIX));
      return line === undefined
        ? undefined
        : (JSON.parse(line.slice(FAULT_REPORT_PREFIX.length)) as FaultReport);
    },
  };
}

/** Waits for an instance to be killed at its fault point; throws with its stderr when it is not. */
export async function killedAtFault(instance: Instance, timeoutMs: number): Promise<FaultReport> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const end = await Promise.race([instance.exited, timeout]);
  clearTimeout(timer);
  const tail = instance.stderr().slice(-2000);
  if (end === 'timeout')
    throw new Error(`${instance.name} did not reach its fault point in ${timeoutMs} ms; stderr:\n${tail}`);
  const report = instance.report();
  if (end.signal !== 'SIGKILL' || report === undefined)
    throw new Error(
      `${instance.name} ended with ${end.signal ?? `code ${end.code}`} and no fault report; stderr:\n${tail}`,
    );
  return report;
}

type LabelList = { name: string; value: string }[];

/** The samples written to one series, in order. */
export interface Written {
  t: number[];
  v: number[];
}

/**
 * The load: rounds of samples for `series` ordinary series (and, on request,
 * one block range of a wide burst on partition 0), each record stamped with
 * its newest sample's time as the gateway stamps them. Only acknowledged
 * rounds are recorded in `sent`.
 */
export class Load {
  readonly sent = new Map<string, Written>();
  /** Start of the next round (simulated ms). */
  t: number;
  private wideLeft = 0;
  private wideWanted = false;
  private readonly wide: LabelList[] = [];

  constructor(
    private readonly producer: Producer,
    private readonly serdes: Serdes,
    private readonly topic: string,
    private readonly partitions: number,
    private readonly series: number,
    t0: number,
  ) {
    this.t = t0;
    for (let i = 0; this.wide.length < WIDE_SERIES; i++) {
      const labels = seriesLabels(`w${i}`);
      if (partitionFor(labels, partitions) === 0) this.wide.push(labels);
    }
  }

  /** Asks for one whole block range of wide series, starting at the next range boundary. */
  requestWideBurst(): void {
    this.wideWanted = true;
  }

  /** Sends one round and records it once acknowledged. */
  async round(): Promise<void> {
    const t = this.t;
    if (this.wideWanted && t % BLOCK === 0) {
      this.wideWanted = false;
      this.wideLeft = BLOCK / ROUND;
    }
    const pending: { name: string; t: number[]; v: number[] }[] = [];
    const messages = [];
    for (let i = 0; i < this.series; i++) {
      const labels = seriesLabels(`n${i}`);
      const s = samples(labels, t, STEP);
      pending.push(s);
      messages.push(await this.record([{ labels, s }]));
    }
    await this.producer.send({ topic: this.topic, acks: -1, messages });
    if (this.wideLeft > 0) {
      this.wideLeft--;
      // One record per send: a produce request to one partition must stay under the broker's 1 MB limit.
      for (let i = 0; i < this.wide.length; i += WIDE_PER_RECORD) {
        const group = this.wide
          .slice(i, i + WIDE_PER_RECORD)
          .map((labels) => ({ labels, s: samples(labels, t, 1) }));
        await this.producer.send({ topic: this.topic, acks: -1, messages: [await this.record(group)] });
        pending.push(...group.map((g) => g.s));
      }
    }
    for (const s of pending) {
      const w = this.sent.get(s.name) ?? { t: [], v: [] };
      w.t.push(...s.t);
      w.v.push(...s.v);
      this.sent.set(s.name, w);
    }
    this.t += ROUND;
  }

  /** Sends a record no decoder accepts, to partition `partition`; returns its offset. */
  async poison(partition: number): Promise<number> {
    const [meta] = await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: [
        { key: 'poison', value: Buffer.from('not a SampleBatch'), partition, timestamp: String(this.t) },
      ],
    });
    return Number(meta?.baseOffset);
  }

  private async record(group: { labels: LabelList; s: { t: number[]; v: number[] } }[]) {
    const value = await this.serdes.sampleBatch.serialize(this.topic, {
      tenant: TENANT,
      producedAt: Date.now(),
      series: group.map(({ labels, s }) => ({
        labels,
        minTime: s.t[0]!,
        maxTime: s.t[s.t.length - 1]!,
        encoding: 'XOR',
        chunk: Buffer.from(encodeXorChunk(s.t, s.v)),
        histograms: [],
      })),
    });
    const first = group[0]!;
    return {
      key: seriesKey(first.labels),
      value,
      partition: partitionFor(first.labels, this.partitions),
      timestamp: String(Math.max(...group.map((g) => g.s.t[g.s.t.length - 1]!))),
    };
  }
}

function seriesLabels(name: string): LabelList {
  return [
    { name: '__name__', value: 'crash_metric' },
    { name: 'series', value: name },
  ];
}

/** One round of a series: a sample every `step` ms from `t`, random values (so chunks do not compress). */
function samples(labels: LabelList, t: number, step: number): { name: string; t: number[]; v: number[] } {
  const ts: number[] = [];
  const vs: number[] = [];
  for (let x = t; x < t + ROUND; x += step) {
    ts.push(x);
    vs.push(Math.random() * 1000);
  }
  return { name: labels[1]!.value, t: ts, v: vs };
}

/** Committed offsets of a group on a topic, by partition (-1 where none). */
export async function committed(admin: Admin, groupId: string, topic: string): Promise<number[]> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const out: number[] = [];
  for (const p of t?.partitions ?? []) out[p.partition] = Number(p.offset);
  return out;
}

/** Every block of the tenant, read back: samples by series, and each block's origin. */
export async function readBack(store: ObjectStore): Promise<{
  samples: Map<string, Written>;
  blocks: { dir: string; partition: number; minTime: number; maxTime: number }[];
  partial: string[];
}> {
  const objects = await listAll(store, `${TENANT}/`, { recursive: true });
  const dirs = new Set(objects.map((o) => o.key.split('/').slice(0, 2).join('/')));
  const withMeta = new Set(
    objects.filter((o) => o.key.endsWith('/meta.json')).map((o) => o.key.slice(0, -'/meta.json'.length)),
  );
  const samples = new Map<string, Written>();
  const blocks = [];
  const all = [{ type: '=~' as const, name: '__name__', value: '.+', matches: () => true }];
  for (const dir of withMeta) {
    const reader = await BlockReader.open(store, dir);
    blocks.push({
      dir,
      partition: reader.meta.promstream?.partition ?? -1,
      minTime: reader.meta.minTime,
      maxTime: reader.meta.maxTime,
    });
    for (const s of await reader.select(all, -Infinity, Infinity)) {
      const name = s.labels.find((l) => l.name === 'series')?.value ?? '';
      const w = samples.get(name) ?? { t: [], v: [] };
      const it = s.iterator();
      while (it.next() === ValueType.Float) {
        w.t.push(it.atT());
        w.v.push(it.at());
      }
      samples.set(name, w);
    }
  }
  return { samples, blocks, partial: [...dirs].filter((d) => !withMeta.has(d)) };
}

/** Sorts a series' samples by time, keeping each value with its time (duplicates stay, side by side). */
export function sortedByTime(w: Written): Written {
  const order = w.t.map((_, i) => i).sort((a, b) => w.t[a]! - w.t[b]!);
  return { t: order.map((i) => w.t[i]!), v: order.map((i) => w.v[i]!) };
}
