/** The rules role's library: rule files, group evaluation, alerts, unit tests. */

export { type Alert, AlertingRule, type AlertState } from './alerting-rule.js';
export { RULES_ERROR_CODES, RulesError, type RulesErrorCode } from './errors.js';
export { type GroupOptions, RecordingRule, type Rule, RuleGroup, type RuleHealth } from './group.js';
export { checkReport, type GroupSpec, loadRuleFiles, parseRuleFile, type RuleSpec } from './rule-file.js';
export type { RuleSample, RuleSink, RuleSource } from './seams.js';
export { runUnitTestFile, type UnitTestReport } from './unit-test.js';
