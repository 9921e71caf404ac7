/** The supervisor that runs each role of the all-in-one in its own process. */
export { type ChildSpec, type ChildStatus, Supervisor, type SupervisorOptions } from './supervisor.js';
