import { at, type Collector, family, readOptional } from './collector.js';

// node_exporter's default field filter for vmstat.
const fields = /^(oom_kill|pgpg|pswp|pg.*fault).*/;

/** node_vmstat_<field> for the fields node_exporter exposes by default. */
export const vmstatCollector: Collector = {
  name: 'vmstat',
  async collect(paths) {
    const text = await readOptional(at(paths.proc, 'vmstat'));
    if (text === undefined) return [];
    const out = [];
    for (const line of text.split('\n')) {
      const [name, value] = line.split(' ');
      if (name === undefined || value === undefined || !fields.test(name)) continue;
      out.push(
        family(`node_vmstat_${name}`, 'untyped', `/proc/vmstat information field ${name}.`, [
          { labels: {}, value: Number(value) },
        ]),
      );
    }
    return out;
  },
};
