import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostPaths, MetricFamily } from './collector.js';
import { hostCollectors, hostPaths } from './index.js';

const files: Record<string, string> = {
  stat: 'cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 250 1 120 9000 30 0 4 0 7 0\nctxt 555\nbtime 1700000000\nprocesses 42\nprocs_running 3\nprocs_blocked 0\n',
  meminfo:
    'MemTotal:       16384 kB\nMemFree:         1024 kB\nActive(anon):     512 kB\nHugePages_Total:       0\n',
  loadavg: '0.50 1.25 2.00 2/345 6789\n',
  'pressure/cpu':
    'some avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
  'pressure/io':
    'some avg10=0.00 avg60=0.00 avg300=0.00 total=2000000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\n',
  diskstats:
    '   8       0 sda 100 5 2048 300 50 6 4096 700 0 900 1000 0 0 0 0\n   7       0 loop0 1 0 2 0 0 0 0 0 0 0 0 0 0 0 0\n',
  'net/dev':
    'Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n  eth0: 1000 10 1 2 0 0 0 3 2000 20 0 0 0 0 0 0\n',
  vmstat: 'pgfault 900\npgmajfault 9\noom_kill 1\nnr_free_pages 12\n',
  mounts: 'tmpfs /tmp tmpfs rw 0 0\nproc /proc proc rw 0 0\n',
};

function value(fams: MetricFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const f = fams.find((x) => x.name === name);
  return f?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('host collectors on a fixture /proc', () => {
  let dir: string;
  let paths: HostPaths;
  let fams: MetricFamily[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ingest-proc-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, 'proc', name)), { recursive: true });
      writeFileSync(path.join(dir, 'proc', name), text);
    }
    paths = { proc: path.join(dir, 'proc'), sys: path.join(dir, 'sys'), rootfs: '/' };
    fams = (await Promise.all(hostCollectors.map((c) => c.collect(paths)))).flat();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads CPU seconds per cpu and mode in USER_HZ', () => {
    expect(value(fams, 'node_cpu_seconds_total', { cpu: '0', mode: 'user' })).toBe(2.5);
    expect(value(fams, 'node_cpu_seconds_total', { cpu: '0', mode: 'idle' })).toBe(90);
    expect(value(fams, 'node_cpu_seconds_total', { cpu: '0', mode: 'iowait' })).toBe(0.3);
    expect(value(fams, 'node_boot_time_seconds')).toBe(1_700_000_000);
    expect(value(fams, 'node_context_switches_total')).toBe(555);
  });

  it('reads memory in bytes with node_exporter names', () => {
    expect(value(fams, 'node_memory_MemTotal_bytes')).toBe(16384 * 1024);
    expect(value(fams, 'node_memory_Active_anon_bytes')).toBe(512 * 1024);
    expect(value(fams, 'node_memory_HugePages_Total')).toBe(0);
  });

  it('reads load, pressure, disk, network and vmstat', () => {
    expect(value(fams, 'node_load5')).toBe(1.25);
    expect(value(fams, 'node_pressure_cpu_waiting_seconds_total')).toBe(1.5);
    expect(value(fams, 'node_pressure_io_stalled_seconds_total')).toBe(1);
    expect(value(fams, 'node_disk_read_bytes_total', { device: 'sda' })).toBe(2048 * 512);
    expect(value(fams, 'node_disk_io_time_seconds_total', { device: 'sda' })).toBe(0.9);
    expect(value(fams, 'node_disk_reads_completed_total', { device: 'loop0' })).toBeUndefined();
    expect(value(fams, 'node_network_receive_bytes_total', { device: 'eth0' })).toBe(1000);
    expect(value(fams, 'node_network_receive_multicast_total', { device: 'eth0' })).toBe(3);
    expect(value(fams, 'node_network_transmit_packets_total', { device: 'eth0' })).toBe(20);
    expect(value(fams, 'node_vmstat_oom_kill')).toBe(1);
    expect(value(fams, 'node_vmstat_nr_free_pages')).toBeUndefined();
  });

  it('stats real mounts and skips pseudo file systems', () => {
    expect(value(fams, 'node_filesystem_size_bytes', { mountpoint: '/tmp' })).toBeGreaterThan(0);
    expect(value(fams, 'node_filesystem_size_bytes', { mountpoint: '/proc' })).toBeUndefined();
  });

  it('returns nothing when the files are absent', async () => {
    const empty = { proc: path.join(dir, 'none'), sys: path.join(dir, 'none'), rootfs: '/' };
    for (const c of hostCollectors) expect(await c.collect(empty)).toEqual([]);
  });
});

describe('host collectors on this machine', () => {
  it('read the running kernel', async () => {
    const fams = (await Promise.all(hostCollectors.map((c) => c.collect(hostPaths)))).flat();
    expect(value(fams, 'node_memory_MemTotal_bytes')).toBeGreaterThan(0);
    expect(fams.find((f) => f.name === 'node_cpu_seconds_total')?.samples.length).toBeGreaterThan(0);
    expect(value(fams, 'node_load1')).toBeGreaterThanOrEqual(0);
  });
});
