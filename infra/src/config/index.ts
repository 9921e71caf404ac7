/** Configuration: one schema, read from a YAML file, the environment and flags, validated. */
export {
  type AgentConfig,
  brokerDataDir,
  CONFIG_FILE_ENV,
  type CompactorConfig,
  type ConfigSources,
  defaultConfig,
  type GatewayConfig,
  loadConfig,
  objectStoreUrl,
  type PromstreamConfig,
  type TenantOverrides,
  type UpConfig,
} from './config.js';
export { CONFIG_ERROR_CODES, ConfigError, type ConfigErrorCode } from './errors.js';
export { printConfig, redacted } from './print.js';
export {
  addConfigFlags,
  exitOnConfigError,
  flagValues,
  loadRoleConfig,
  roleConfig,
  serveMetrics,
} from './role-support.js';
export { CONFIG_ROLES, type ConfigRole, roleSettings, SETTINGS, type Setting } from './schema.js';
export { closeInOrder, onShutdown, type ShutdownStep } from './shutdown.js';
export { openStore, s3Settings } from './store.js';
export { type TenantLimits, type TenantRate, type TenantWindow, tenantLimits } from './tenant-limits.js';
