/**
 * The event store's benchmark, three figures:
 * - `ingest`: events per CPU-second of one thread through the store's own
 *   work per event: the Avro body decoded (the serde's avsc type), the tenant
 *   rule, the limits, and the Parquet encoding with zstd. The log and the
 *   bucket are left out (their cost is the broker's and the S3 server's).
 *   Floor: 200 000 events/s.
 * - `query`: latency of `GET /api/v1/events`' querier for a one-day,
 *   one-kind filter (`{kind="oom_kill"}`, newest 100) over a day of stored
 *   events in a memory bucket, cold (segments decoded) and warm (decoded
 *   segments cached). Floor: 200 ms over 10 million events; the run here
 *   uses EVENTS_BENCH_N events (default 1 000 000) and says so.
 * - `size`: bytes per event in Parquet against the Avro records on the log.
 *
 * Data shape `kernel-day`: 2000 hosts, 12 kinds (oom_kill one of them),
 * kernel-log-like messages with numbers, 2 attributes, one event every
 * 86 400 000 / N ms over one day, 4 partitions, cuts of 50 000 events.
 *
 * Run: npm run bench:events (in stream-processors), under flock /tmp/promstream-bench.lock.
 */

import { BucketEventQuerier } from '@promstream/query';
import { avroType, type Event } from '@promstream/schemas';
import {
  cutFiles,
  DEFAULT_EVENT_LIMITS,
  encodeSegment,
  eventTenant,
  MemoryObjectStore,
  type StoredEvent,
  toStored,
} from '@promstream/storage';

const N = Number(process.env.EVENTS_BENCH_N ?? 1_000_000);
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1);
const KINDS = [
  'oom_kill',
  'segfault',
  'link_down',
  'link_up',
  'disk_error',
  'mce',
  'thermal',
  'reboot',
  'login',
  'logout',
  'unit_failed',
  'nvme_reset',
];
const CUT = 50_000;

function eventAt(i: number): Event {
  const host = `node-${(i * 7919) % 2000}`;
  return {
    time: T0 + Math.floor((i * DAY) / N),
    host,
    source: (['kernel', 'os', 'hardware', 'app'] as const)[i % 4] as Event['source'],
    kind: KINDS[(i * 31) % KINDS.length] as string,
    severity: (['info', 'warning', 'error', 'critical'] as const)[i % 4] as Event['severity'],
    message: `[${(i / 1000).toFixed(6)}] Out of memory: Killed process ${i % 65536} (worker-${i % 97}) total-vm:${i % 100000}kB`,
    attributes: { pid: String(i % 65536), unit: `svc-${i % 50}.service` },
  };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main() {
  const type = avroType('event');
  // The Avro bodies as the log carries them (after the 5-byte Confluent header).
  const bodies: Buffer[] = new Array(N);
  let avroBytes = 0;
  for (let i = 0; i < N; i++) {
    bodies[i] = type.toBuffer(eventAt(i));
    avroBytes += (bodies[i] as Buffer).length + 5;
  }

  // ingest: decode, place, limit, encode, cut by cut (a warm-up cut first).
  const store = new MemoryObjectStore();
  let parquetBytes = 0;
  const ingest = async (count: number, keep: boolean) => {
    const start = cpuMs();
    const wall = performance.now();
    for (let from = 0; from < count; from += CUT) {
      const partition = (from / CUT) % 4;
      const origin = {
        topic: 'bench',
        partition,
        firstOffset: from,
        lastOffset: Math.min(count, from + CUT) - 1,
      };
      const cut: StoredEvent[] = [];
      for (let i = from; i < Math.min(count, from + CUT); i++) {
        const e = type.fromBuffer(bodies[i] as Buffer) as Event;
        cut.push(toStored(e, eventTenant(e.attributes, 'anonymous'), partition, i, DEFAULT_EVENT_LIMITS));
      }
      for (const { key, events: list } of cutFiles(cut, origin)) {
        const bytes = encodeSegment(list, origin);
        if (keep) {
          parquetBytes += bytes.length;
          await store.put(key, bytes);
        }
      }
    }
    return { cpu: cpuMs() - start, wall: performance.now() - wall };
  };
  await ingest(Math.min(N, CUT), false);
  const run = await ingest(N, true);
  const perCore = (N / run.cpu) * 1000;
  console.log(
    `ingest   kernel-day  ${N} events  ${(run.wall / 1000).toFixed(2)} s wall  ${(run.cpu / 1000).toFixed(2)} s CPU  ` +
      `${Math.round(perCore).toLocaleString('en')} events/CPU-s  (floor 200,000: ${perCore >= 200_000 ? 'met' : 'NOT met'})`,
  );
  console.log(
    `size     Avro on the log ${(avroBytes / N).toFixed(1)} B/event  Parquet+zstd ${(parquetBytes / N).toFixed(1)} B/event  ` +
      `(${(avroBytes / parquetBytes).toFixed(2)}x smaller)`,
  );

  const querier = new BucketEventQuerier({ store, cacheSegments: 100_000 });
  const q = {
    tenant: 'anonymous',
    start: T0,
    end: T0 + DAY - 1,
    filter: {
      matchers: [
        { type: '=' as const, name: 'kind', value: 'oom_kill', matches: (v: string) => v === 'oom_kill' },
      ],
      text: [],
    },
    direction: 'backward' as const,
    limit: 100,
  };
  const times: number[] = [];
  for (let r = 0; r < 4; r++) {
    const t = performance.now();
    const page = await querier.query(q);
    times.push(performance.now() - t);
    if (page.events.length !== 100 || page.events.some((e) => e.kind !== 'oom_kill'))
      throw new Error('the query answered wrong events');
  }
  console.log(
    `query    kernel-day  one day, kind="oom_kill", newest 100 over ${N} events: cold ${times[0]?.toFixed(0)} ms, ` +
      `warm ${Math.min(...times.slice(1)).toFixed(0)} ms  (floor 200 ms over 10,000,000 events; run scaled to ${N})`,
  );
}

await main();
