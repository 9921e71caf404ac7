import type { AgentEvent, EventSeverity, EventSource } from './event.js';

/** One record of /dev/kmsg: `<prio>,<seq>,<usec since boot>,<flags>;<message>`. */
export interface KmsgRecord {
  priority: number;
  seq: number;
  /** Microseconds since boot. */
  usec: number;
  message: string;
}

/** Parses one /dev/kmsg record (continuation lines starting with a space are dropped). */
export function parseKmsg(line: string): KmsgRecord | undefined {
  const semi = line.indexOf(';');
  if (semi < 0) return undefined;
  const [prefix, seq, usec] = line.slice(0, semi).split(',');
  const prio = Number(prefix);
  if (!Number.isFinite(prio) || seq === undefined || usec === undefined) return undefined;
  // The low three bits are the syslog level; the rest the facility.
  return {
    priority: prio & 7,
    seq: Number(seq),
    usec: Number(usec),
    message: line.slice(semi + 1).split('\n')[0]!,
  };
}

interface Rule {
  kind: string;
  source: EventSource;
  severity: EventSeverity;
  pattern: RegExp;
  /** Names for the pattern's capture groups, in order. */
  groups: string[];
}

// Kernel messages that matter to an operator, as the kernel prints them.
const rules: Rule[] = [
  {
    kind: 'oom_kill',
    source: 'kernel',
    severity: 'error',
    pattern: /Out of memory: Killed process (\d+) \(([^)]*)\)/,
    groups: ['pid', 'process'],
  },
  {
    kind: 'oom_kill',
    source: 'kernel',
    severity: 'error',
    pattern: /Memory cgroup out of memory: Killed process (\d+) \(([^)]*)\)/,
    groups: ['pid', 'process'],
  },
  {
    kind: 'segfault',
    source: 'os',
    severity: 'warning',
    pattern: /^(\S+?)\[(\d+)\]: segfault at (\S+) ip (\S+)/,
    groups: ['process', 'pid', 'address', 'ip'],
  },
  {
    kind: 'process_crash',
    source: 'os',
    severity: 'warning',
    pattern: /^traps: (\S+?)\[(\d+)\] (.+)/,
    groups: ['process', 'pid', 'trap'],
  },
  {
    kind: 'hung_task',
    source: 'kernel',
    severity: 'error',
    pattern: /INFO: task (\S+?):(\d+) blocked for more than (\d+) seconds/,
    groups: ['process', 'pid', 'seconds'],
  },
  {
    kind: 'machine_check',
    source: 'hardware',
    severity: 'critical',
    pattern: /(?:mce: \[Hardware Error\]|Machine check events logged|\[Hardware Error\]:)\s*(.*)/,
    groups: ['detail'],
  },
  {
    kind: 'edac_error',
    source: 'hardware',
    severity: 'error',
    pattern: /EDAC (\S+): (\d+) (CE|UE) (.*)/,
    groups: ['controller', 'count', 'type', 'detail'],
  },
  {
    kind: 'disk_io_error',
    source: 'hardware',
    severity: 'error',
    pattern: /(?:blk_update_request|I\/O error), dev (\w+), sector (\d+)/,
    groups: ['device', 'sector'],
  },
  {
    kind: 'disk_io_error',
    source: 'hardware',
    severity: 'error',
    pattern: /Buffer I\/O error on dev (\w+)/,
    groups: ['device'],
  },
  {
    kind: 'thermal_throttle',
    source: 'hardware',
    severity: 'warning',
    pattern: /CPU(\d+): (?:Core|Package) temperature above threshold, cpu clock throttled/,
    groups: ['cpu'],
  },
  {
    kind: 'link_down',
    source: 'kernel',
    severity: 'warning',
    pattern: /^(?:\S+ )*?(\w[\w.-]*): (?:NIC )?Link is Down/,
    groups: ['device'],
  },
  {
    kind: 'link_up',
    source: 'kernel',
    severity: 'info',
    pattern: /^(?:\S+ )*?(\w[\w.-]*): (?:NIC )?Link is Up(?: - )?(.*)/,
    groups: ['device', 'detail'],
  },
];

/**
 * Turns a kernel log record into an event when it is one the agent reports,
 * or undefined. `bootTime` (ms) converts the record's time since boot.
 */
export function classifyKernelRecord(
  rec: KmsgRecord,
  host: string,
  bootTime: number,
): AgentEvent | undefined {
  for (const rule of rules) {
    const m = rule.pattern.exec(rec.message);
    if (m === null) continue;
    const attributes: Record<string, string> = { seq: String(rec.seq), priority: String(rec.priority) };
    rule.groups.forEach((g, i) => {
      const v = m[i + 1];
      if (v !== undefined && v !== '') attributes[g] = v;
    });
    return {
      time: Math.round(bootTime + rec.usec / 1000),
      host,
      source: rule.source,
      kind: rule.kind,
      severity: rule.severity,
      message: rec.message,
      attributes,
    };
  }
  return undefined;
}
