import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HostPaths } from './collectors/index.js';
import type { AgentEvent } from './events/event.js';

/**
 * Reads the host's boot time and compares it with the one saved on the last
 * run in `<dataDir>/agent-state.json`: a different one means the host
 * rebooted, reported as an `os`/`reboot` event. Saves the boot time for the
 * next run and returns it (undefined where /proc/stat has none).
 */
export function detectReboot(options: {
  paths: HostPaths;
  dataDir: string;
  host: string;
  emit: (event: AgentEvent) => void;
}): number | undefined {
  const statePath = path.join(options.dataDir, 'agent-state.json');
  const bootTime = readBootTime(options.paths);
  if (bootTime === undefined) return undefined;
  const previous = existsSync(statePath)
    ? (JSON.parse(readFileSync(statePath, 'utf8')) as { bootTime?: number })
    : {};
  if (previous.bootTime !== undefined && previous.bootTime !== bootTime) {
    options.emit({
      time: bootTime,
      host: options.host,
      source: 'os',
      kind: 'reboot',
      severity: 'notice',
      message: `host booted at ${new Date(bootTime).toISOString()}`,
      attributes: { previous_boot: new Date(previous.bootTime).toISOString() },
    });
  }
  writeFileSync(statePath, JSON.stringify({ bootTime }));
  return bootTime;
}

function readBootTime(paths: HostPaths): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync(path.join(paths.proc, 'stat'), 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1000;
  } catch {
    return undefined;
  }
}
