import type { Setting } from './schema.js';

/**
 * The rollups role's settings. The rules file is in vmagent's stream
 * aggregation shape (stream-processors/src/rollup/README.md); `--config`
 * already names promstream's own configuration file, so the rules file has
 * its own flag.
 */
export const ROLLUPS_SETTINGS: readonly Setting[] = [
  {
    key: 'rollups.configFile',
    kind: 'path',
    default: '',
    env: 'PROMSTREAM_ROLLUPS_CONFIG_FILE',
    flag: '--rollup-config <file>',
    roles: ['rollups', 'block-builder', 'up'],
    help: 'rollup rules, vmagent stream aggregation YAML (block builder: drops keep_input: false series)',
  },
  {
    key: 'rollups.name',
    kind: 'string',
    default: 'default',
    env: 'PROMSTREAM_ROLLUPS_NAME',
    flag: '--rollup-name <name>',
    roles: ['rollups'],
    help: 'names the rollup: its consumer groups and the prefix of its state in the bucket',
  },
  {
    key: 'rollups.lateness',
    kind: 'duration',
    default: 30_000,
    env: 'PROMSTREAM_ROLLUPS_LATENESS',
    flag: '--lateness <duration>',
    roles: ['rollups'],
    min: 0,
    max: 86_400_000,
    help: 'log time a window stays open after its end for late samples',
  },
  {
    key: 'rollups.metricsPort',
    kind: 'port',
    env: 'PROMSTREAM_ROLLUPS_METRICS_PORT',
    flag: '--metrics-port <port>',
    roles: ['rollups'],
    help: 'serve /metrics of the rollups on this port; unset: not served',
  },
];
