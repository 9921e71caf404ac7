/**
 * A role started by the supervisor ends with it: even when the supervisor is
 * killed with SIGKILL and cannot stop its roles, each role notices that its
 * parent is gone and stops itself, so no orphan keeps ports or data open.
 */

/** The environment variable that carries the supervisor's pid to its roles. */
export const SUPERVISOR_PID_ENV = 'PROMSTREAM_SUPERVISOR_PID';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Calls `onGone` once when process `pid` no longer exists; checks every `intervalMs` without keeping the loop alive. */
export function watchParent(pid: number, onGone: () => void, intervalMs = 1000): () => void {
  const timer = setInterval(() => {
    if (alive(pid)) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** In a role started by the supervisor: sends this process SIGTERM (its own clean stop) once the supervisor is gone. */
export function stopWithSupervisor(env: NodeJS.ProcessEnv = process.env): void {
  const pid = Number(env[SUPERVISOR_PID_ENV]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  watchParent(pid, () => process.kill(process.pid, 'SIGTERM'));
}
