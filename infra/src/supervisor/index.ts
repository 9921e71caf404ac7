/** The supervisor that runs each role of the all-in-one in its own process, and its front door. */
export { type Front, type FrontOptions, isWritePath, startFront, type Upstream } from './front.js';
export { type ChildSpec, type ChildStatus, Supervisor, type SupervisorOptions } from './supervisor.js';
