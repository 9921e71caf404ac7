import { at, type Collector, family, type MetricFamily, readOptional } from './collector.js';

function total(text: string, kind: 'some' | 'full'): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${kind} `));
  const m = line === undefined ? null : /total=(\d+)/.exec(line);
  // The kernel counts stall time in microseconds.
  return m === null ? undefined : Number(m[1]) / 1e6;
}

/** Pressure stall information (PSI) with node_exporter's names. */
export const pressureCollector: Collector = {
  name: 'pressure',
  async collect(paths) {
    const out: MetricFamily[] = [];
    const cpu = await readOptional(at(paths.proc, 'pressure', 'cpu'));
    if (cpu !== undefined) {
      const some = total(cpu, 'some');
      if (some !== undefined) {
        out.push(
          family(
            'node_pressure_cpu_waiting_seconds_total',
            'counter',
            'Total time in seconds that processes have waited for CPU time.',
            [{ labels: {}, value: some }],
          ),
        );
      }
    }
    for (const resource of ['memory', 'io'] as const) {
      const text = await readOptional(at(paths.proc, 'pressure', resource));
      if (text === undefined) continue;
      const some = total(text, 'some');
      const full = total(text, 'full');
      if (some !== undefined) {
        out.push(
          family(
            `node_pressure_${resource}_waiting_seconds_total`,
            'counter',
            `Total time in seconds that processes have waited for ${resource}.`,
            [{ labels: {}, value: some }],
          ),
        );
      }
      if (full !== undefined) {
        out.push(
          family(
            `node_pressure_${resource}_stalled_seconds_total`,
            'counter',
            `Total time in seconds no process could make progress due to ${resource} congestion.`,
            [{ labels: {}, value: full }],
          ),
        );
      }
    }
    return out;
  },
};
