import type { Setting } from './schema.js';

const MS_DAY = 86_400_000;

/** A duration setting of the rules role. */
function rulesDuration(name: string, flag: string, defaultMs: number, help: string, min = 0): Setting {
  const env = `PROMSTREAM_RULES_${name.replace(/([A-Z])/g, '_$1').toUpperCase()}`;
  return {
    key: `rules.${name}`,
    kind: 'duration',
    default: defaultMs,
    env,
    flag: `${flag} <duration>`,
    roles: ['rules'],
    min,
    max: 365 * MS_DAY,
    help,
  };
}

/**
 * The settings of the rules role. The alerting flags keep Prometheus' names
 * (`--rules.alert.for-outage-tolerance`, `--alertmanager.url`, ...), so a
 * Prometheus command line carries over.
 */
export const RULES_SETTINGS: readonly Setting[] = [
  {
    key: 'kafka.derivedTopic',
    kind: 'string',
    default: 'promstream.derived.v1',
    env: 'PROMSTREAM_DERIVED_TOPIC',
    flag: '--derived-topic <topic>',
    roles: ['query', 'rules'],
    help: 'where recorded series and ALERTS are written; the query head tails it too (empty: not tailed)',
  },
  {
    key: 'rules.files',
    kind: 'string',
    default: '',
    env: 'PROMSTREAM_RULES',
    flag: '--rules <globs>',
    roles: ['rules'],
    help: "rule files of the default tenant, comma-separated globs ('rules/*.yml')",
  },
  {
    key: 'rules.dir',
    kind: 'string',
    default: '',
    env: 'PROMSTREAM_RULES_DIR',
    flag: '--rules-dir <dir>',
    roles: ['rules'],
    help: 'one folder per tenant, named for it, holding that tenant’s rule files (*.yml, *.yaml)',
  },
  {
    key: 'rules.tenant',
    kind: 'string',
    default: 'anonymous',
    env: 'PROMSTREAM_RULES_TENANT',
    flag: '--tenant <id>',
    roles: ['rules'],
    help: 'tenant of the --rules files: what they read, and where their results are written',
  },
  {
    key: 'rules.host',
    kind: 'string',
    default: '127.0.0.1',
    env: 'PROMSTREAM_RULES_HOST',
    flag: '--host <host>',
    roles: ['rules'],
    help: 'address of /api/v1/rules, /api/v1/alerts, /-/reload and /metrics',
  },
  {
    key: 'rules.port',
    kind: 'port',
    default: 9095,
    env: 'PROMSTREAM_RULES_PORT',
    flag: '--port <port>',
    roles: ['rules'],
    help: 'port of the rules API and /metrics (0: any free port)',
  },
  rulesDuration(
    'evaluationInterval',
    '--evaluation-interval',
    60_000,
    'interval of groups that name none',
    1000,
  ),
  rulesDuration('queryOffset', '--query-offset', 0, 'query_offset of groups that name none'),
  rulesDuration(
    'outageTolerance',
    '--rules.alert.for-outage-tolerance',
    3_600_000,
    'longest outage after which alert state is still restored from ALERTS_FOR_STATE',
  ),
  rulesDuration(
    'forGracePeriod',
    '--rules.alert.for-grace-period',
    600_000,
    'least time an alert pends after a restore',
  ),
  rulesDuration(
    'resendDelay',
    '--rules.alert.resend-delay',
    60_000,
    'least time between two sends of one alert',
  ),
  rulesDuration(
    'readTimeout',
    '--read-timeout',
    10_000,
    'how long an evaluation waits for the heads to read what the log acknowledged',
    1,
  ),
  {
    key: 'rules.alertmanagerUrl',
    kind: 'string',
    default: '',
    env: 'PROMSTREAM_ALERTMANAGER_URL',
    flag: '--alertmanager.url <urls>',
    roles: ['rules'],
    help: 'Alertmanager base URLs, comma-separated; alerts go to <url>/api/v2/alerts (empty: not sent)',
  },
  {
    key: 'rules.externalUrl',
    kind: 'string',
    default: '',
    env: 'PROMSTREAM_RULES_EXTERNAL_URL',
    flag: '--web.external-url <url>',
    roles: ['rules'],
    help: 'URL templates see as $externalURL and alerts carry as generatorURL',
  },
];
