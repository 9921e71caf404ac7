import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** The Prometheus metric types the agent exposes. */
export type MetricType = 'counter' | 'gauge' | 'untyped';

/** One sample of a family: its labels other than the name, and the value. */
export interface FamilySample {
  labels: Record<string, string>;
  value: number;
}

/** A metric family as the exposition format groups it. */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: FamilySample[];
}

/** Where the collectors read the kernel's files; tests point these at fixtures. */
export interface HostPaths {
  proc: string;
  sys: string;
  /** Prefix for mount points when statfs is asked about them (the host root inside a container). */
  rootfs: string;
}

/** The paths of the running host. */
export const hostPaths: HostPaths = { proc: '/proc', sys: '/sys', rootfs: '/' };

/**
 * A host collector: reads a part of /proc or /sys and returns families with
 * node-exporter names and labels. A collector whose files are absent returns
 * no families; other read errors propagate so the agent can report them.
 */
export interface Collector {
  name: string;
  collect(paths: HostPaths): Promise<MetricFamily[]>;
}

/** Reads a file, or undefined when it does not exist. */
export async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EOPNOTSUPP') return undefined;
    throw err;
  }
}

/** Joins a base path with parts. */
export const at = (base: string, ...parts: string[]): string => path.join(base, ...parts);

/** Builds a family. */
export function family(
  name: string,
  type: MetricType,
  help: string,
  samples: FamilySample[] = [],
): MetricFamily {
  return { name, type, help, samples };
}
