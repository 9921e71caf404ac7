import { at, type Collector, family, readOptional } from './collector.js';

// Devices node_exporter leaves out by default: virtual and partition-less pseudo disks.
const ignored = /^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$/;
// /proc/diskstats counts sectors of 512 bytes whatever the device's sector size.
const SECTOR = 512;

/** Disk I/O counters from /proc/diskstats with node_exporter's names, labelled by device. */
export const diskCollector: Collector = {
  name: 'diskstats',
  async collect(paths) {
    const text = await readOptional(at(paths.proc, 'diskstats'));
    if (text === undefined) return [];
    const fams = {
      reads: family(
        'node_disk_reads_completed_total',
        'counter',
        'The total number of reads completed successfully.',
      ),
      readsMerged: family('node_disk_reads_merged_total', 'counter', 'The total number of reads merged.'),
      readBytes: family(
        'node_disk_read_bytes_total',
        'counter',
        'The total number of bytes read successfully.',
      ),
      readTime: family(
        'node_disk_read_time_seconds_total',
        'counter',
        'The total number of seconds spent by all reads.',
      ),
      writes: family(
        'node_disk_writes_completed_total',
        'counter',
        'The total number of writes completed successfully.',
      ),
      writesMerged: family('node_disk_writes_merged_total', 'counter', 'The number of writes merged.'),
      writtenBytes: family(
        'node_disk_written_bytes_total',
        'counter',
        'The total number of bytes written successfully.',
      ),
      writeTime: family(
        'node_disk_write_time_seconds_total',
        'counter',
        'This is the total number of seconds spent by all writes.',
      ),
      inProgress: family('node_disk_io_now', 'gauge', 'The number of I/Os currently in progress.'),
      ioTime: family('node_disk_io_time_seconds_total', 'counter', 'Total seconds spent doing I/Os.'),
      ioWeighted: family(
        'node_disk_io_time_weighted_seconds_total',
        'counter',
        'The weighted # of seconds spent doing I/Os.',
      ),
    };
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      const device = f[2];
      if (device === undefined || f.length < 14 || ignored.test(device)) continue;
      const n = (i: number) => Number(f[i]);
      const labels = { device };
      fams.reads.samples.push({ labels, value: n(3) });
      fams.readsMerged.samples.push({ labels, value: n(4) });
      fams.readBytes.samples.push({ labels, value: n(5) * SECTOR });
      fams.readTime.samples.push({ labels, value: n(6) / 1000 });
      fams.writes.samples.push({ labels, value: n(7) });
      fams.writesMerged.samples.push({ labels, value: n(8) });
      fams.writtenBytes.samples.push({ labels, value: n(9) * SECTOR });
      fams.writeTime.samples.push({ labels, value: n(10) / 1000 });
      fams.inProgress.samples.push({ labels, value: n(11) });
      fams.ioTime.samples.push({ labels, value: n(12) / 1000 });
      fams.ioWeighted.samples.push({ labels, value: n(13) / 1000 });
    }
    return Object.values(fams).filter((f) => f.samples.length > 0);
  },
};
