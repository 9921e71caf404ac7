export {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  incompatibilities,
  readIncompatibility,
} from './compatibility.js';
export { RegistryError, RegistryErrorCode } from './errors.js';
export { type RegistryOptions, type RunningRegistry, startRegistry } from './server.js';
