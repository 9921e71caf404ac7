import { existsSync } from 'node:fs';

/**
 * Whether a Docker engine answers. Testcontainers is loaded only when a
 * socket or DOCKER_HOST hints at one, so machines without Docker pay nothing.
 */
export async function dockerAvailable(): Promise<boolean> {
  if (process.env.DOCKER_HOST === undefined && !existsSync('/var/run/docker.sock')) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await Promise.race([
      getContainerRuntimeClient(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('docker timeout')), 5000)),
    ]);
    return client !== undefined;
  } catch {
    return false;
  }
}
