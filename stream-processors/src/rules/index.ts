/** The rules role's library: rule files, group evaluation, alerts, unit tests. */

export { type Alert, AlertingRule, type AlertState } from './alerting-rule.js';
export { type RulesApiOptions, rulesApi } from './api.js';
export { RULES_ERROR_CODES, RulesError, type RulesErrorCode } from './errors.js';
export { type GroupOptions, RecordingRule, type Rule, RuleGroup, type RuleHealth } from './group.js';
export { LogRuleSink, type LogRuleSinkOptions } from './log-sink.js';
export { type AlertListener, RulesManager, type RulesManagerOptions } from './manager.js';
export { AlertmanagerNotifier, type AmAlert, type NotifierOptions } from './notifier.js';
export { checkReport, type GroupSpec, loadRuleFiles, parseRuleFile, type RuleSpec } from './rule-file.js';
export { expandGlob, loadTenantRules, type RuleFileSources } from './rule-files.js';
export { type RunningRules, type StartRulesOptions, startRules } from './run.js';
export type { RuleSample, RuleSink, RuleSource } from './seams.js';
export { runUnitTestFile, type UnitTestReport } from './unit-test.js';
