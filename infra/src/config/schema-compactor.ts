import type { Setting } from './schema.js';

const MS_DAY = 86_400_000;
const MS_YEAR = 366 * MS_DAY;

/** A duration setting of the compactor, from 0, at most ten years. */
function compactorDuration(name: string, flag: string, defaultMs: number, help: string): Setting {
  const env = `PROMSTREAM_COMPACTOR_${name.replace(/([A-Z]|\d+)/g, '_$1').toUpperCase()}`;
  return {
    key: `compactor.${name}`,
    kind: 'duration',
    default: defaultMs,
    env,
    flag: `${flag} <duration>`,
    roles: ['compactor'],
    min: 0,
    max: 10 * MS_YEAR,
    help,
  };
}

/**
 * The compactor's settings. The retention flags and `--downsampling.disable`
 * keep Thanos compactor's names, so a Thanos command line carries over.
 */
export const COMPACTOR_SETTINGS: readonly Setting[] = [
  {
    key: 'compactor.once',
    kind: 'bool',
    default: false,
    env: 'PROMSTREAM_COMPACTOR_ONCE',
    flag: '--once',
    roles: ['compactor'],
    help: 'wait for the bucket lease, make one pass, exit',
  },
  compactorDuration('retentionRaw', '--retention.resolution-raw', 0, 'keep raw blocks this long; 0 forever'),
  compactorDuration('retention5m', '--retention.resolution-5m', 0, 'keep 5m blocks this long; 0 forever'),
  compactorDuration('retention1h', '--retention.resolution-1h', 0, 'keep 1h blocks this long; 0 forever'),
  {
    key: 'compactor.levels',
    kind: 'string',
    default: '2h,8h,2d,14d',
    env: 'PROMSTREAM_COMPACTOR_LEVELS',
    flag: '--levels <list>',
    roles: ['compactor'],
    help: 'compaction levels, block ranges from the smallest, comma-separated durations',
  },
  {
    key: 'compactor.downsamplingDisable',
    kind: 'bool',
    default: false,
    env: 'PROMSTREAM_COMPACTOR_DOWNSAMPLING_DISABLE',
    flag: '--downsampling.disable',
    roles: ['compactor'],
    help: 'do not downsample',
  },
  compactorDuration(
    'downsample5mFrom',
    '--downsample-5m-from',
    40 * 3_600_000,
    'block span from which raw blocks are downsampled to 5m',
  ),
  compactorDuration(
    'downsample1hFrom',
    '--downsample-1h-from',
    10 * MS_DAY,
    'block span from which 5m blocks are downsampled to 1h',
  ),
  compactorDuration(
    'deleteDelay',
    '--delete-delay',
    2 * MS_DAY,
    'time between a deletion mark and the deletion',
  ),
  compactorDuration(
    'partialUploadDelay',
    '--partial-upload-delay',
    2 * MS_DAY,
    'age after which a block without meta.json is deleted',
  ),
  compactorDuration('waitInterval', '--wait-interval', 300_000, 'time between passes'),
  compactorDuration('leaseTtl', '--lease-ttl', 60_000, 'how long the bucket lease holds without renewal'),
  {
    key: 'compactor.metricsPort',
    kind: 'port',
    env: 'PROMSTREAM_COMPACTOR_METRICS_PORT',
    flag: '--metrics-port <port>',
    roles: ['compactor'],
    help: 'serve /metrics of the compactor on this port; unset: not served',
  },
];
