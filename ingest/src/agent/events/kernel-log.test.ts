import { describe, expect, it } from 'vitest';
import { classifyKernelRecord, parseKmsg } from './kernel-log.js';

const boot = 1_700_000_000_000;
function classify(message: string, prio = 3) {
  return classifyKernelRecord({ priority: prio, seq: 7, usec: 2_000_000, message }, 'node-1', boot);
}

describe('kernel log', () => {
  it('parses /dev/kmsg records', () => {
    expect(parseKmsg('6,1234,5000000,-;eth0: Link is Down')).toEqual({
      priority: 6,
      seq: 1234,
      usec: 5_000_000,
      message: 'eth0: Link is Down',
    });
    // Facility bits above the level are masked off.
    expect(parseKmsg('14,1,0,-;x')?.priority).toBe(6);
    expect(parseKmsg('garbage')).toBeUndefined();
  });

  const cases: [string, string, string, Record<string, string>][] = [
    [
      'Out of memory: Killed process 4242 (java) total-vm:100kB',
      'oom_kill',
      'kernel',
      { pid: '4242', process: 'java' },
    ],
    [
      'myapp[991]: segfault at 0 ip 000055d5 sp 00007ffd error 4 in myapp',
      'segfault',
      'os',
      { process: 'myapp', pid: '991' },
    ],
    [
      'INFO: task kworker/0:1:77 blocked for more than 120 seconds.',
      'hung_task',
      'kernel',
      { process: 'kworker/0:1', pid: '77', seconds: '120' },
    ],
    ['mce: [Hardware Error]: Machine check events logged', 'machine_check', 'hardware', {}],
    [
      'EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0',
      'edac_error',
      'hardware',
      { controller: 'MC0', count: '1', type: 'CE' },
    ],
    [
      'blk_update_request: I/O error, dev sdb, sector 12345 op 0x0:(READ)',
      'disk_io_error',
      'hardware',
      { device: 'sdb', sector: '12345' },
    ],
    [
      'CPU3: Core temperature above threshold, cpu clock throttled (total events = 1)',
      'thermal_throttle',
      'hardware',
      { cpu: '3' },
    ],
    ['e1000e 0000:00:19.0 eth0: NIC Link is Down', 'link_down', 'kernel', { device: 'eth0' }],
    ['igb 0000:01:00.0 eno1: NIC Link is Up 1000 Mbps Full Duplex', 'link_up', 'kernel', { device: 'eno1' }],
  ];
  for (const [message, kind, source, attrs] of cases) {
    it(`recognises ${kind}: ${message.slice(0, 40)}`, () => {
      const e = classify(message);
      expect(e?.kind).toBe(kind);
      expect(e?.source).toBe(source);
      expect(e?.host).toBe('node-1');
      expect(e?.time).toBe(boot + 2000);
      expect(e?.attributes).toMatchObject(attrs);
    });
  }

  it('ignores ordinary messages', () => {
    expect(classify('Linux version 6.18.44')).toBeUndefined();
    expect(classify('systemd[1]: Started Session 3 of user root.')).toBeUndefined();
  });
});
