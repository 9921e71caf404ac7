import { at, type Collector, family, readOptional } from './collector.js';

/** node_memory_<Field>_bytes for every /proc/meminfo field, as node_exporter names them. */
export const memoryCollector: Collector = {
  name: 'meminfo',
  async collect(paths) {
    const text = await readOptional(at(paths.proc, 'meminfo'));
    if (text === undefined) return [];
    const out = [];
    for (const line of text.split('\n')) {
      const m = /^([A-Za-z0-9_()]+):\s+(\d+)(\s+kB)?/.exec(line);
      if (m === null) continue;
      // node_exporter turns "Active(anon)" into "Active_anon".
      const field = m[1]!.replace(/\((.*)\)/, '_$1');
      const kb = m[3] !== undefined;
      const name = kb ? `node_memory_${field}_bytes` : `node_memory_${field}`;
      out.push(
        family(name, 'gauge', `Memory information field ${field}${kb ? '_bytes' : ''}.`, [
          { labels: {}, value: Number(m[2]) * (kb ? 1024 : 1) },
        ]),
      );
    }
    return out;
  },
};
