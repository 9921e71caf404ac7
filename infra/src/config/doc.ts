import { CONFIG_FILE_ENV } from './config.js';
import { SETTINGS, type Setting, shownValue } from './schema.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

function shownDefault(s: Setting): string {
  return s.default === undefined ? 'unset' : `\`${shownValue(s, s.default)}\``;
}

/**
 * The settings table of `infra/docs/config.md`, generated from the schema so
 * the page lists every key with its variable, flag and default. A test keeps
 * the page and the schema equal.
 */
export function configDocTable(): string {
  const rows = SETTINGS.map((s) =>
    [
      `\`${s.key}\``,
      s.kind,
      shownDefault(s),
      s.env === undefined ? '—' : `\`${s.env}\``,
      s.flag === undefined ? '—' : `\`${s.flag.split(' ')[0]}\` (${(s.roles ?? []).join(', ')})`,
      cell(s.help),
    ].join(' | '),
  );
  return [
    `<!-- generated from infra/src/config/schema.ts; the file is ${CONFIG_FILE_ENV} or --config -->`,
    '| key | kind | default | environment | flag (roles) | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}
