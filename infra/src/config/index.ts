/** Configuration: YAML file, environment overrides, flags, validated. */
export {
  type ConfigSources,
  defaultConfig,
  ENV_OVERRIDES,
  type GatewayConfig,
  loadConfig,
  objectStoreUrl,
  type PromstreamConfig,
  type TenantOverrides,
} from './config.js';
export { CONFIG_ERROR_CODES, ConfigError, type ConfigErrorCode } from './errors.js';
export { addCommonFlags, COMMON_FLAGS, onShutdown, roleConfig, serveMetrics } from './role-support.js';
export { type TenantLimits, type TenantRate, type TenantWindow, tenantLimits } from './tenant-limits.js';
