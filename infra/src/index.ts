export {
  FAULT_ENV,
  FAULT_REPORT_PREFIX,
  type FaultReport,
  type FaultSpec,
  parseFaultSpec,
} from './cli/fault-points.js';
export { buildProgram, main } from './cli/main.js';
export type { Role } from './cli/role.js';
