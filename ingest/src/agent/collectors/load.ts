import { at, type Collector, family, readOptional } from './collector.js';

/** node_load1, node_load5, node_load15 from /proc/loadavg. */
export const loadCollector: Collector = {
  name: 'loadavg',
  async collect(paths) {
    const text = await readOptional(at(paths.proc, 'loadavg'));
    if (text === undefined) return [];
    const [l1, l5, l15] = text.trim().split(/\s+/).map(Number);
    return [
      family('node_load1', 'gauge', '1m load average.', [{ labels: {}, value: l1 ?? Number.NaN }]),
      family('node_load5', 'gauge', '5m load average.', [{ labels: {}, value: l5 ?? Number.NaN }]),
      family('node_load15', 'gauge', '15m load average.', [{ labels: {}, value: l15 ?? Number.NaN }]),
    ];
  },
};
