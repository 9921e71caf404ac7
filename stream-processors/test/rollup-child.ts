import { objectStoreFromUrl } from '@promstream/storage';
import { pino } from 'pino';
import { parseRollupConfig } from '../src/rollup/config.js';
import { num } from '../src/rollup/group-state.js';
import { startRollups } from '../src/rollup/processor.js';
import { ROLLUP_FAULT_POINTS, type RollupFaultPoint } from '../src/rollup/seams.js';
import { ObjectRollupStateStore } from '../src/rollup/state-store.js';
import { jsonDecoder } from './support.js';

// One rollup processor as a process, for the crash test: its settings come
// as JSON in ROLLUP_CHILD, and ROLLUP_FAULT=<stage>:<point>:<hit> makes it
// kill itself (SIGKILL) the hit-th time that stage passes that point.

interface ChildSettings {
  brokers: string[];
  name: string;
  rules: string;
  samplesTopic: string;
  partialsTopic: string;
  derivedTopic: string;
  stateDir: string;
  lateMs: number;
}

const settings = JSON.parse(process.env.ROLLUP_CHILD ?? '{}') as ChildSettings;
const [stage, point, hit] = (process.env.ROLLUP_FAULT ?? '').split(':');
if (point !== undefined && !ROLLUP_FAULT_POINTS.includes(point as RollupFaultPoint))
  throw new Error(`unknown fault point ${point}`);
let hits = 0;

const rollups = await startRollups({
  brokers: settings.brokers,
  rules: parseRollupConfig(settings.rules),
  name: settings.name,
  samplesTopic: settings.samplesTopic,
  partialsTopic: settings.partialsTopic,
  derivedTopic: settings.derivedTopic,
  lateMs: settings.lateMs,
  decoder: jsonDecoder,
  encoder: {
    async encode(tenant, producedAt, samples) {
      const body = samples.map((s) => ({ labels: s.labels, t: s.t, v: num(s.v) }));
      return Buffer.from(JSON.stringify({ tenant, producedAt, samples: body }));
    },
  },
  store: new ObjectRollupStateStore(objectStoreFromUrl(settings.stateDir), settings.name),
  logger: pino({ level: process.env.ROLLUP_LOG ?? 'warn' }, pino.destination(2)),
  sessionTimeoutMs: 6000,
  maxBytesPerPartition: 4096,
  faults: {
    reached(p, detail) {
      if (p === point && detail.stage === stage && ++hits === Number(hit))
        process.kill(process.pid, 'SIGKILL');
    },
  },
  onCrash: (err) => {
    process.stderr.write(`rollups crashed: ${err.message}\n`);
    process.exit(1);
  },
});
process.on('SIGTERM', () => {
  // What the process did, for a failing test's message.
  void rollups.registry.metrics().then((text) => {
    process.stderr.write(
      text
        .split('\n')
        .filter((l) => l.startsWith('promstream_rollups_'))
        .join('\n'),
    );
    process.exit(0);
  });
});
process.stdout.write('ready\n');
