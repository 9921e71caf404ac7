import { createSerdes } from '@promstream/schemas';
import { PrefixedObjectStore, S3ObjectStore } from '@promstream/storage';
import { pino } from 'pino';
import { eventDecoder } from '../src/events/decoder.js';
import { startEventStore } from '../src/events/event-store.js';
import { EVENT_FAULT_POINTS, type EventFaultPoint } from '../src/events/seams.js';
import { ObjectEventStateStore } from '../src/events/state-store.js';
import { MemoryLetters } from './events.js';

// An event store in a process of its own, for the crash test: its settings
// come as one JSON argument, and with `fault` set it kills itself with
// SIGKILL the `hit`-th time it passes that fault point.

interface ChildConfig {
  brokers: string[];
  topic: string;
  group: string;
  registryUrl: string;
  s3: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  prefix: string;
  fault?: EventFaultPoint;
  hit?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
if (config.fault !== undefined && !EVENT_FAULT_POINTS.includes(config.fault))
  throw new Error(`unknown fault point ${config.fault}`);
const serdes = createSerdes({ registryUrl: config.registryUrl });
const store = new PrefixedObjectStore(
  new S3ObjectStore({ ...config.s3, forcePathStyle: true }),
  config.prefix,
);
let hits = 0;
await startEventStore({
  brokers: config.brokers,
  topic: config.topic,
  groupId: config.group,
  decoder: eventDecoder((v) => serdes.event.deserialize(config.topic, v)),
  store,
  state: new ObjectEventStateStore(store),
  deadLetters: new MemoryLetters(),
  maxSegmentBytes: 8192,
  maxSegmentAge: 300,
  sessionTimeout: 6000,
  logger: pino({ level: 'warn' }, pino.destination(2)),
  faults: {
    reached(point, detail) {
      if (point !== config.fault || ++hits < (config.hit ?? 1)) return;
      process.stderr.write(`event store fault point reached: ${JSON.stringify({ point, ...detail })}\n`);
      process.kill(process.pid, 'SIGKILL');
    },
  },
});
process.stdout.write('started\n');
