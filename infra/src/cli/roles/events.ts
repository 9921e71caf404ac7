import type { Command } from 'commander';
import type { Role } from '../role.js';

interface EventsFlags {
  url: string;
  match?: string;
  tenant?: string;
}

/** `promstream events query|tail`: events from the query tier's API, as JSON lines. */
export const eventsRole: Role = {
  name: 'events',
  summary: 'Print stored or live events as JSON lines (query, tail) from the query API',
  configure(command: Command): void {
    const common = (c: Command) =>
      c
        .option('--url <url>', 'base URL of the query tier', 'http://127.0.0.1:9090')
        .option('--match <selector>', 'e.g. {kind="oom_kill", host=~"db-.*"} |= "nvme0"')
        .option('--tenant <id>', 'X-Scope-OrgID of the requests');
    common(command.command('query').description('events of a time window, newest first unless --forward'))
      .option('--start <time>', 'RFC 3339 or Unix seconds (default: an hour before --end)')
      .option('--end <time>', 'RFC 3339 or Unix seconds (default: now)')
      .option('--limit <n>', 'at most this many events; 0 for all', '100')
      .option('--forward', 'oldest first')
      .action(async (o: EventsFlags & { start?: string; end?: string; limit: string; forward?: boolean }) => {
        const { queryEvents } = await import('../events-client.js');
        await run(() =>
          queryEvents({
            ...o,
            limit: Number(o.limit),
            direction: o.forward === true ? 'forward' : undefined,
            write: (l) => process.stdout.write(`${l}\n`),
          }),
        );
      });
    common(command.command('tail').description('new events as they arrive, until interrupted'))
      .option('--from-beginning', 'start at the oldest event the log holds')
      .option('--from <id>', 'resume after the event with this id (an id the stream handed out)')
      .action(async (o: EventsFlags & { fromBeginning?: boolean; from?: string }) => {
        const { tailEvents } = await import('../events-client.js');
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        const from = o.fromBeginning === true ? 'beginning' : o.from;
        await run(() =>
          tailEvents({ ...o, from, signal: abort.signal, write: (l) => process.stdout.write(`${l}\n`) }),
        );
      });
  },
};

/** Runs a client call; an error is one line on stderr and exit status 1. */
async function run(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if ((err as Error).name === 'AbortError') return;
    process.stderr.write(`promstream events: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
