import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { at, type Collector, family, readOptional } from './collector.js';

// Pseudo file systems node_exporter skips by default.
const ignoredTypes = new Set([
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'configfs',
  'debugfs',
  'devpts',
  'devtmpfs',
  'fusectl',
  'hugetlbfs',
  'iso9660',
  'mqueue',
  'nsfs',
  'overlay',
  'proc',
  'procfs',
  'pstore',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'squashfs',
  'sysfs',
  'tracefs',
]);
const ignoredMounts =
  /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;

// Mount points in /proc/mounts escape space, tab, newline and backslash as octal.
const unescapeMount = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** node_filesystem_{size,free,avail}_bytes, node_filesystem_files{,_free}, node_filesystem_readonly by device, fstype, mountpoint. */
export const filesystemCollector: Collector = {
  name: 'filesystem',
  async collect(paths) {
    const text = await readOptional(at(paths.proc, 'mounts'));
    if (text === undefined) return [];
    const size = family('node_filesystem_size_bytes', 'gauge', 'Filesystem size in bytes.');
    const free = family('node_filesystem_free_bytes', 'gauge', 'Filesystem free space in bytes.');
    const avail = family(
      'node_filesystem_avail_bytes',
      'gauge',
      'Filesystem space available to non-root users in bytes.',
    );
    const files = family('node_filesystem_files', 'gauge', 'Filesystem total file nodes.');
    const filesFree = family('node_filesystem_files_free', 'gauge', 'Filesystem total free file nodes.');
    const readonly = family('node_filesystem_readonly', 'gauge', 'Filesystem read-only status.');
    const seen = new Set<string>();
    for (const line of text.split('\n')) {
      const [device, rawMount, fstype, options] = line.split(' ');
      if (device === undefined || rawMount === undefined || fstype === undefined) continue;
      const mountpoint = unescapeMount(rawMount);
      if (ignoredTypes.has(fstype) || ignoredMounts.test(mountpoint) || seen.has(mountpoint)) continue;
      seen.add(mountpoint);
      let st: Awaited<ReturnType<typeof statfs>>;
      try {
        st = await statfs(path.join(paths.rootfs, mountpoint));
      } catch {
        // A mount we may not stat (permissions, a stale network mount) is left out, as node_exporter does.
        continue;
      }
      const labels = { device, fstype, mountpoint };
      size.samples.push({ labels, value: Number(st.blocks) * Number(st.bsize) });
      free.samples.push({ labels, value: Number(st.bfree) * Number(st.bsize) });
      avail.samples.push({ labels, value: Number(st.bavail) * Number(st.bsize) });
      files.samples.push({ labels, value: Number(st.files) });
      filesFree.samples.push({ labels, value: Number(st.ffree) });
      readonly.samples.push({ labels, value: (options ?? '').split(',').includes('ro') ? 1 : 0 });
    }
    return [size, free, avail, files, filesFree, readonly];
  },
};
