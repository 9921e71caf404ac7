#!/usr/bin/env node
// The promstream command line. The code lives in @promstream/infra. Built
// (`npm run build`; npm start and npm test do it) it runs from dist/; before
// the first build, as right after `npm install`, it runs the TypeScript
// sources through tsx, so `npx promstream --help` works either way.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const fromSources = process.execArgv.some((a) => a.includes('@promstream/source'));
const built = existsSync(fileURLToPath(new URL('../infra/dist/index.js', import.meta.url)));

if (built || fromSources) {
  const { main } = await import('@promstream/infra');
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
} else {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@promstream/source',
      '--import',
      import.meta.resolve('tsx'),
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
  // Ctrl-C reaches the child with the rest of the terminal's process group;
  // a SIGTERM sent to this process alone is passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 0 : 1)));
}
