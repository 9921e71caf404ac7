import type { Collector } from './collector.js';
import { cpuCollector } from './cpu.js';
import { diskCollector } from './disk.js';
import { filesystemCollector } from './filesystem.js';
import { loadCollector } from './load.js';
import { memoryCollector } from './memory.js';
import { networkCollector } from './network.js';
import { pressureCollector } from './pressure.js';
import { vmstatCollector } from './vmstat.js';

export * from './collector.js';

/** Every host collector, by the name node_exporter gives it. */
export const hostCollectors: readonly Collector[] = [
  cpuCollector,
  memoryCollector,
  loadCollector,
  pressureCollector,
  diskCollector,
  filesystemCollector,
  networkCollector,
  vmstatCollector,
];
