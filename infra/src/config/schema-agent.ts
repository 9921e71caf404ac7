import type { Setting } from './schema.js';

const MS_DAY = 86_400_000;

/** The node agent's own settings (its listener is `roleListener('agent', ...)` in schema.ts). */
export const AGENT_SETTINGS: readonly Setting[] = [
  {
    key: 'agent.hostname',
    kind: 'string',
    env: 'PROMSTREAM_AGENT_HOSTNAME',
    flag: '--hostname <name>',
    roles: ['agent'],
    help: 'host name put on series (instance) and events; unset: the OS host name',
  },
  {
    key: 'agent.tenant',
    kind: 'string',
    default: 'anonymous',
    env: 'PROMSTREAM_AGENT_TENANT',
    flag: '--tenant <id>',
    roles: ['agent'],
    help: 'tenant the samples are written for',
  },
  {
    key: 'agent.interval',
    kind: 'duration',
    default: 15_000,
    env: 'PROMSTREAM_AGENT_INTERVAL',
    flag: '--interval <duration>',
    roles: ['agent'],
    min: 1000,
    max: MS_DAY,
    help: 'collection interval, e.g. 15s',
  },
  {
    key: 'agent.bufferBytes',
    kind: 'bytes',
    default: 256 * 1024 * 1024,
    env: 'PROMSTREAM_AGENT_BUFFER_SIZE',
    flag: '--buffer-size <size>',
    roles: ['agent'],
    min: 1024 * 1024,
    max: 2 ** 45,
    help: 'bound of the disk buffer, e.g. 256MiB',
  },
  {
    key: 'agent.scrape',
    kind: 'pairs',
    default: [],
    env: 'PROMSTREAM_AGENT_SCRAPE',
    flag: '--scrape <job=url>',
    roles: ['agent'],
    help: 'Prometheus exporters to scrape, job=url (repeatable flag; comma-separated in the variable)',
  },
  {
    key: 'agent.plugins',
    kind: 'pairs',
    default: [],
    env: 'PROMSTREAM_AGENT_PLUGINS',
    flag: '--plugin <name=command>',
    roles: ['agent'],
    help: 'external collector plugins, name=shell command (repeatable flag; comma-separated in the variable)',
  },
  {
    key: 'agent.kernelLog',
    kind: 'bool',
    default: true,
    env: 'PROMSTREAM_AGENT_KERNEL_LOG',
    flag: '--no-kernel-log',
    roles: ['agent'],
    help: 'read kernel events from /dev/kmsg',
  },
];
