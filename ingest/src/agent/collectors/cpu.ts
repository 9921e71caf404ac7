import { at, type Collector, family, readOptional } from './collector.js';

// Linux reports /proc/stat in USER_HZ, which is 100 on every architecture
// the kernel ABI exposes to user space.
const USER_HZ = 100;
const modes = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** node_cpu_seconds_total{cpu,mode}, node_boot_time_seconds, node_context_switches_total, node_intr_total, node_forks_total, node_procs_running/blocked. */
export const cpuCollector: Collector = {
  name: 'cpu',
  async collect(paths) {
    const text = await readOptional(at(paths.proc, 'stat'));
    if (text === undefined) return [];
    const cpu = family('node_cpu_seconds_total', 'counter', 'Seconds the CPUs spent in each mode.');
    const guest = family(
      'node_cpu_guest_seconds_total',
      'counter',
      'Seconds the CPUs spent in guests (VMs) for each mode.',
    );
    const out = [cpu, guest];
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      const key = f[0] ?? '';
      if (/^cpu\d+$/.test(key)) {
        const id = key.slice(3);
        modes.forEach((mode, i) => {
          const v = Number(f[i + 1]);
          if (Number.isFinite(v)) cpu.samples.push({ labels: { cpu: id, mode }, value: v / USER_HZ });
        });
        if (f[9] !== undefined)
          guest.samples.push({ labels: { cpu: id, mode: 'user' }, value: Number(f[9]) / USER_HZ });
        if (f[10] !== undefined)
          guest.samples.push({ labels: { cpu: id, mode: 'nice' }, value: Number(f[10]) / USER_HZ });
      } else if (key === 'btime') {
        out.push(
          family('node_boot_time_seconds', 'gauge', 'Node boot time, in unixtime.', [
            { labels: {}, value: Number(f[1]) },
          ]),
        );
      } else if (key === 'ctxt') {
        out.push(
          family('node_context_switches_total', 'counter', 'Total number of context switches.', [
            { labels: {}, value: Number(f[1]) },
          ]),
        );
      } else if (key === 'intr') {
        out.push(
          family('node_intr_total', 'counter', 'Total number of interrupts serviced.', [
            { labels: {}, value: Number(f[1]) },
          ]),
        );
      } else if (key === 'processes') {
        out.push(
          family('node_forks_total', 'counter', 'Total number of forks.', [
            { labels: {}, value: Number(f[1]) },
          ]),
        );
      } else if (key === 'procs_running') {
        out.push(
          family('node_procs_running', 'gauge', 'Number of processes in runnable state.', [
            { labels: {}, value: Number(f[1]) },
          ]),
        );
      } else if (key === 'procs_blocked') {
        out.push(
          family('node_procs_blocked', 'gauge', 'Number of processes blocked waiting for I/O to complete.', [
            { labels: {}, value: Number(f[1]) },
          ]),
        );
      }
    }
    return out;
  },
};
