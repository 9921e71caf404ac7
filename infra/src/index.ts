export { buildProgram, main } from './cli/main.js';
export type { Role } from './cli/role.js';
