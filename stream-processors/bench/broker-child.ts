/**
 * The embedded broker in its own process, so the benchmark's CPU figures
 * count the block builder and replay, not the broker serving them.
 * Prints `{"port":N}` on stdout once it listens; stops on SIGTERM.
 */
import { startBroker } from '@promstream/broker';
import { pino } from 'pino';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: broker-child.ts <data dir>');
const broker = await startBroker({ dataDir, port: 0, host: '127.0.0.1', logger: pino({ level: 'warn' }) });
process.stdout.write(`${JSON.stringify({ port: broker.port })}\n`);
process.on('SIGTERM', () => {
  void broker.close().then(() => process.exit(0));
});
