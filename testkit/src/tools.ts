import { execFileSync } from 'node:child_process';

/** Absolute path of an executable on PATH, or undefined when it is absent. */
export function findTool(name: string): string | undefined {
  try {
    const out = execFileSync('sh', ['-c', `command -v ${JSON.stringify(name)}`], { encoding: 'utf8' }).trim();
    return out === '' ? undefined : out;
  } catch {
    return undefined;
  }
}
