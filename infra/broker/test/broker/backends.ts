import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { announceSkip, realKafka } from '@promstream/testkit';
import pino from 'pino';
import { type RunningBroker, startBroker } from '../../src/index.js';

/** A broker the contract suites run against: the embedded one, or Apache Kafka at KAFKA_BROKERS. */
export interface Backend {
  name: string;
  start(): Promise<{ brokers: string[]; stop(): Promise<void> }>;
}

export const backends: Backend[] = [
  {
    name: 'embedded broker',
    start: async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'broker-contract-'));
      const b: RunningBroker = await startBroker({ dataDir: dir, logger: pino({ level: 'silent' }) });
      return {
        brokers: [`127.0.0.1:${b.port}`],
        stop: async () => {
          await b.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
const real = realKafka();
if (real.ok) backends.push({ name: 'Apache Kafka', start: async () => real.backend });
else announceSkip('broker contract on Apache Kafka', real.reason);

/** A topic name no earlier run used, so the suite can run against a long-lived Kafka. */
export const fresh = (what: string) => `contract-${what}-${randomUUID().slice(0, 8)}`;
