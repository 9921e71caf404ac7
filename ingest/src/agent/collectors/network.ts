import { at, type Collector, family, type MetricFamily, readOptional } from './collector.js';

const receive = ['bytes', 'packets', 'errs', 'drop', 'fifo', 'frame', 'compressed', 'multicast'];
const transmit = ['bytes', 'packets', 'errs', 'drop', 'fifo', 'colls', 'carrier', 'compressed'];

/** node_network_{receive,transmit}_<field>_total by device from /proc/net/dev. */
export const networkCollector: Collector = {
  name: 'netdev',
  async collect(paths) {
    const text = await readOptional(at(paths.proc, 'net', 'dev'));
    if (text === undefined) return [];
    const fams = new Map<string, MetricFamily>();
    const add = (dir: string, field: string, device: string, value: number) => {
      const name = `node_network_${dir}_${field}_total`;
      let f = fams.get(name);
      if (f === undefined) {
        f = family(name, 'counter', `Network device statistic ${dir}_${field}.`);
        fams.set(name, f);
      }
      f.samples.push({ labels: { device }, value });
    };
    for (const line of text.split('\n').slice(2)) {
      const m = /^\s*([^:]+):(.*)$/.exec(line);
      if (m === null) continue;
      const device = m[1]!.trim();
      const v = m[2]!.trim().split(/\s+/).map(Number);
      for (const [i, field] of receive.entries()) add('receive', field, device, v[i] ?? 0);
      for (const [i, field] of transmit.entries()) add('transmit', field, device, v[i + 8] ?? 0);
    }
    return [...fams.values()];
  },
};
