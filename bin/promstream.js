#!/usr/bin/env node
// The promstream command line. The code lives in @promstream/infra; run
// `npm run build` (npm start and npm test do it) before using this file.
import { main } from '@promstream/infra';

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
