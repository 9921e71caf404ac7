import { announceSkip, type LogBackend, realKafka, startEmbeddedBroker } from '@promstream/testkit';

/** A log a suite runs on: Apache Kafka (KAFKA_BROKERS) and the embedded broker, as the other suites pick them. */
export interface SuiteBackend {
  name: string;
  enabled: boolean;
  start(): Promise<LogBackend>;
}

/** Both logs, each announced when it cannot run. */
export function suiteBackends(suite: string): SuiteBackend[] {
  const real = realKafka();
  if (!real.ok) announceSkip(`${suite} on Apache Kafka`, real.reason);
  return [
    {
      name: 'Apache Kafka',
      enabled: real.ok,
      start: async () => {
        if (!real.ok) throw new Error(real.reason);
        return real.backend;
      },
    },
    {
      name: 'the embedded broker',
      enabled: true,
      start: async () => {
        const b = await startEmbeddedBroker();
        if (!b.ok) throw new Error(b.reason);
        return b.backend;
      },
    },
  ];
}
