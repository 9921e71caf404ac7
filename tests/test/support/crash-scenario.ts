import { randomUUID } from 'node:crypto';
import type { FaultReport } from '@promstream/infra';
import { createSerdes, type RunningRegistry, startRegistry, TOPICS } from '@promstream/schemas';
import type { ObjectStore } from '@promstream/storage';
import { listDeadLetters, ObjectPartitionStateStore } from '@promstream/stream-processors';
import { freePort } from '@promstream/testkit';
import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import { expect } from 'vitest';
import {
  BLOCK,
  type BuilderArgs,
  committed,
  type Instance,
  killedAtFault,
  Load,
  readBack,
  sortedByTime,
  spawnBuilder,
  TENANT,
  type Written,
} from './crash-harness.js';

// The block builder crash scenario: a load runs while one builder after the
// other is killed with SIGKILL at a fault point where exactly-once can break.
// Each kill is checked to have landed where it was aimed (and so after work
// was done); at the end every sample written is in the blocks exactly once,
// with its value.

const PARTITIONS = 3;
const SERIES = 9;
/** Wall time between two rounds of the load; one round is one simulated second. */
const PACE_MS = 100;
/** How long one builder may take to reach its fault point (it first waits out its dead predecessor's session). */
const PHASE_MS = 90_000;

/** Where the scenario runs. */
export interface CrashTarget {
  brokers: string[];
  /** The store URL the builders get, and the same store opened here. */
  storeUrl: string;
  store: ObjectStore;
  /** Key prefix of `store` inside the bucket as S3 reports keys (for mid-multipart reports), or ''. */
  bucketPrefix: string;
  /** Environment the builders need for the store. */
  env: NodeJS.ProcessEnv;
  /** S3 stores die in the middle of a multipart upload, the others between a block's files. */
  multipart: boolean;
  /** Parts stored by unfinished multipart uploads of a bucket key (S3 only). */
  pendingParts?: (key: string) => Promise<number>;
}

/** What the scenario saw, for the test to report. */
export interface CrashResult {
  kills: FaultReport[];
  blocks: number;
  samples: number;
}

/** Runs the whole scenario against one log and one store; throws (or fails an expect) on any breach. */
export async function runCrashScenario(target: CrashTarget): Promise<CrashResult> {
  const run = new Run(target);
  try {
    return await run.play();
  } finally {
    await run.close();
  }
}

class Run {
  private readonly topic = `crash-bb-${randomUUID()}`;
  private readonly dlq = `crash-bb-dlq-${randomUUID()}`;
  private readonly groupId = `crash-${this.topic}`;
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly producer: Producer;
  private readonly states: ObjectPartitionStateStore;
  private registry: RunningRegistry | undefined;
  private load: Load | undefined;
  private pumping = false;
  private pump: Promise<void> = Promise.resolve();
  private pumpFailed: Promise<never> = new Promise<never>(() => {});
  private readonly instances: Instance[] = [];
  private readonly kills: FaultReport[] = [];

  constructor(private readonly target: CrashTarget) {
    this.kafka = new Kafka({ clientId: 'crash-bb', brokers: target.brokers, logLevel: logLevel.NOTHING });
    this.admin = this.kafka.admin();
    this.producer = this.kafka.producer({ idempotent: true });
    this.states = new ObjectPartitionStateStore(target.store);
  }

  async play(): Promise<CrashResult> {
    await this.setUp();
    const load = this.load!;
    this.startPump();
    await this.afterUpload();
    await this.afterState();
    await (this.target.multipart ? this.midMultipart() : this.midBlock());
    const poison = await this.rebalanceThenDeadLetter();
    return this.finish(load, poison);
  }

  private async setUp(): Promise<void> {
    await this.admin.connect();
    await this.admin.createTopics({
      topics: [
        { topic: this.topic, numPartitions: PARTITIONS },
        { topic: this.dlq, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    // Dead letters are also reported on the events topic; the builder does not create it.
    if (!(await this.admin.listTopics()).includes(TOPICS.events))
      await this.admin.createTopics({
        topics: [{ topic: TOPICS.events, numPartitions: 1 }],
        waitForLeaders: true,
      });
    await this.producer.connect();
    this.registry = await startRegistry({
      brokers: this.target.brokers,
      port: await freePort(),
      topic: `_schemas-${randomUUID()}`,
    });
    const serdes = createSerdes({ registryUrl: this.registry.url });
    // An hour ago, aligned to the block range: records carry their samples' times, as the gateway stamps them.
    const t0 = Math.floor((Date.now() - 3_600_000) / BLOCK) * BLOCK;
    this.load = new Load(this.producer, serdes, this.topic, PARTITIONS, SERIES, t0);
  }

  private args(): BuilderArgs {
    return {
      brokers: this.target.brokers,
      registryUrl: this.registry!.url,
      storeUrl: this.target.storeUrl,
      topic: this.topic,
      groupId: this.groupId,
      deadLetterTopic: this.dlq,
      env: this.target.env,
    };
  }

  private spawn(fault?: string): Instance {
    const instance = spawnBuilder(
      this.args(),
      `builder #${this.instances.length + 1} (${fault ?? 'no fault'})`,
      fault,
    );
    this.instances.push(instance);
    return instance;
  }

  private async kill(instance: Instance): Promise<FaultReport> {
    const report = await Promise.race([killedAtFault(instance, PHASE_MS), this.pumpFailed]);
    this.kills.push(report);
    return report;
  }

  /** The load runs on its own, one round every PACE_MS, until the final phase stops it. */
  private startPump(): void {
    this.pumping = true;
    this.pump = (async () => {
      while (this.pumping) {
        await this.load!.round();
        await new Promise((r) => setTimeout(r, PACE_MS));
      }
    })();
    // A load that cannot write fails the phase waiting on it at once.
    this.pumpFailed = this.pump.then(() => new Promise<never>(() => {}));
    this.pumpFailed.catch(() => {});
  }

  /** Killed between a block's upload and the state that covers it: the block is there, the state is not. */
  private async afterUpload(): Promise<void> {
    const report = await this.kill(this.spawn('after-upload:2'));
    expect(report.point).toBe('after-upload');
    const { partition, ulid } = report.detail as { partition: number; ulid: string };
    const meta = JSON.parse(
      Buffer.from(await this.target.store.get(`${TENANT}/${ulid}/meta.json`)).toString(),
    );
    const state = await this.states.load(this.topic, partition);
    expect(
      state?.boundary ?? Number.NEGATIVE_INFINITY,
      'the state does not cover the uploaded block',
    ).toBeLessThanOrEqual(meta.minTime);
  }

  /** Killed between the state and the commit: the state is ahead of the committed offset. */
  private async afterState(): Promise<void> {
    const report = await this.kill(this.spawn('after-state:2'));
    expect(report.point).toBe('after-state');
    const { partition, nextOffset } = report.detail as { partition: number; nextOffset: number };
    expect((await this.states.load(this.topic, partition))?.nextOffset).toBe(nextOffset);
    const offsets = await committed(this.admin, this.groupId, this.topic);
    expect(offsets[partition] ?? -1, 'the commit after the saved state').toBeLessThan(nextOffset);
  }

  /** Killed between two files of a block: a file is there, meta.json is not. */
  private async midBlock(): Promise<void> {
    const report = await this.kill(this.spawn('mid-block:2'));
    expect(report.point).toBe('mid-block');
    const { key } = report.detail as { key: string };
    const dir = key.split('/').slice(0, 2).join('/');
    expect(await this.target.store.head(key), `${key} was stored`).toBeDefined();
    expect(await this.target.store.head(`${dir}/meta.json`), `${dir} has no meta.json yet`).toBeUndefined();
  }

  /** Killed after the first part of a multipart upload of a block's chunk file: nothing of it is visible. */
  private async midMultipart(): Promise<void> {
    this.load!.requestWideBurst();
    const report = await this.kill(this.spawn('mid-multipart:1'));
    expect(report.point).toBe('mid-multipart');
    const { key, part } = report.detail as { key: string; part: number };
    expect(part).toBe(1);
    const local = key.slice(this.target.bucketPrefix.length);
    expect(local).toMatch(new RegExp(`^${TENANT}/[0-9A-Z]{26}/chunks/000001$`));
    expect(
      await this.target.store.head(local),
      'an unfinished multipart upload is not an object',
    ).toBeUndefined();
    expect(await this.target.pendingParts?.(key), 'parts of the unfinished upload on the server').toBe(1);
  }

  /**
   * A builder that has committed is killed while a second one joins the
   * group; the second is then killed after writing a dead letter and before
   * the state and commit that would record it.
   */
  private async rebalanceThenDeadLetter(): Promise<number> {
    const before = await committed(this.admin, this.groupId, this.topic);
    const first = this.spawn('rebalance:1');
    const deadline = Date.now() + PHASE_MS;
    for (;;) {
      const now = await committed(this.admin, this.groupId, this.topic);
      if (now.some((o, p) => o > (before[p] ?? -1))) break;
      if (first.child.exitCode !== null || first.child.signalCode !== null)
        throw new Error(`${first.name} ended before it committed; stderr:\n${first.stderr().slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`${first.name} committed nothing in ${PHASE_MS} ms`);
      await Promise.race([new Promise((r) => setTimeout(r, 200)), this.pumpFailed]);
    }
    const second = this.spawn('after-deadletter:1');
    expect((await this.kill(first)).point).toBe('rebalance');
    const poison = await this.load!.poison(1);
    const report = await this.kill(second);
    expect(report.point).toBe('after-deadletter');
    expect((report.detail as { offsets: number[] }).offsets).toEqual([poison]);
    const letters = await listDeadLetters({ brokers: this.target.brokers, topic: this.dlq });
    expect(letters.map((l) => [l.info.topic, l.info.partition, l.info.offset])).toEqual([
      [this.topic, 1, poison],
    ]);
    const offsets = await committed(this.admin, this.groupId, this.topic);
    expect(offsets[1] ?? -1, 'no commit past the dead-lettered record').toBeLessThanOrEqual(poison);
    return poison;
  }

  /** A last builder without a fault builds everything; then every block is read back and compared. */
  private async finish(load: Load, poison: number): Promise<CrashResult> {
    const last = this.spawn();
    this.pumping = false;
    await this.pump;
    // The range holding the newest sample ends here; one round far past it closes it on every partition.
    const end = Math.floor((load.t - 1) / BLOCK) * BLOCK + BLOCK;
    load.t += 2 * BLOCK;
    await load.round();
    const deadline = Date.now() + PHASE_MS;
    for (let p = 0; p < PARTITIONS; p++) {
      while (((await this.states.load(this.topic, p))?.boundary ?? Number.NEGATIVE_INFINITY) < end) {
        if (last.child.exitCode !== null)
          throw new Error(`${last.name} ended:\n${last.stderr().slice(-2000)}`);
        if (Date.now() > deadline)
          throw new Error(`partition ${p} was not built up to ${end} by ${last.name}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    last.child.kill('SIGKILL');
    await last.exited;

    const back = await readBack(this.target.store);
    expect.soft(back.partial, 'block directories without meta.json').toEqual([]);
    expect.soft(overlaps(back.blocks), 'blocks of one partition over the same time').toEqual([]);
    const problems: string[] = [];
    let samples = 0;
    for (const [name, sent] of load.sent) {
      const want = before(sent, end);
      samples += want.t.length;
      const problem = compare(want, before(sortedByTime(back.samples.get(name) ?? { t: [], v: [] }), end));
      if (problem !== undefined) problems.push(`series ${name}: ${problem}`);
    }
    expect.soft(problems, 'every sample exactly once, with its value').toEqual([]);
    // A dead letter is written at least once; the state written after it says it is handled.
    const letters = await listDeadLetters({ brokers: this.target.brokers, topic: this.dlq });
    expect(letters.length).toBeGreaterThanOrEqual(1);
    expect(new Set(letters.map((l) => `${l.info.topic}/${l.info.partition}/${l.info.offset}`))).toEqual(
      new Set([`${this.topic}/1/${poison}`]),
    );
    expect((await this.states.load(this.topic, 1))?.handledThrough).toBeGreaterThanOrEqual(poison);
    return { kills: this.kills, blocks: back.blocks.length, samples };
  }

  async close(): Promise<void> {
    this.pumping = false;
    await this.pump.catch(() => {});
    for (const i of this.instances)
      if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
    await this.producer.disconnect().catch(() => {});
    await this.admin.deleteTopics({ topics: [this.topic, this.dlq] }).catch(() => {});
    await this.admin.disconnect().catch(() => {});
    await this.registry?.close();
  }
}

/** The samples before `end`. */
function before(w: Written, end: number): Written {
  const n = w.t.findIndex((t) => t >= end);
  return n < 0 ? w : { t: w.t.slice(0, n), v: w.v.slice(0, n) };
}

/** The first difference between what was written and what the blocks hold, or undefined. */
function compare(want: Written, got: Written): string | undefined {
  for (let i = 0; i < Math.max(want.t.length, got.t.length); i++) {
    if (want.t[i] !== got.t[i])
      return `sample ${i}: written at ${want.t[i] ?? 'nothing'}, blocks have ${got.t[i] ?? 'nothing'} (${got.t.length} of ${want.t.length})`;
    if (!Object.is(want.v[i], got.v[i]))
      return `sample ${i} at ${want.t[i]}: written ${want.v[i]}, blocks have ${got.v[i]}`;
  }
  return undefined;
}

/** Pairs of blocks of one partition whose time ranges overlap. */
function overlaps(blocks: { dir: string; partition: number; minTime: number; maxTime: number }[]): string[] {
  const out: string[] = [];
  const sorted = [...blocks].sort((a, b) => a.partition - b.partition || a.minTime - b.minTime);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a.partition === b.partition && b.minTime < a.maxTime) out.push(`${a.dir} and ${b.dir}`);
  }
  return out;
}
