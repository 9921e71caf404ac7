import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { WriteSeries } from '../remote-write/types.js';
import type { AgentEvent, EventSeverity } from './events/event.js';
import { sortLabels } from './exposition.js';
import { parseExposition } from './scrape/parse.js';

/** An external collector: a command the agent runs as a child process (protocol: ingest/docs/plugins.md). */
export interface PluginSpec {
  name: string;
  command: string;
  args?: string[];
}

const severities = new Set<EventSeverity>(['debug', 'info', 'notice', 'warning', 'error', 'critical']);

/** Options of a running plugin. */
export interface PluginOptions {
  spec: PluginSpec;
  host: string;
  logger: Logger;
  now: () => number;
  /** Receives each complete collection, already labelled. */
  onSeries(series: WriteSeries[]): void;
  onEvent(event: AgentEvent): void;
}

/**
 * Runs one plugin: asks it to collect with a `collect <ms>` line on stdin,
 * reads exposition text up to `# EOF` and JSON event lines from its stdout,
 * and restarts it (after a pause) when it exits.
 */
export class PluginRunner {
  private child: ChildProcess | undefined;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly options: PluginOptions;
  /** Collections received, for the agent's own metrics. */
  collections = 0;
  /** Lines the plugin sent that did not follow the protocol. */
  errors = 0;

  constructor(options: PluginOptions) {
    this.options = options;
    this.start();
  }

  private start(): void {
    const { spec, logger } = this.options;
    const child = spawn(spec.command, spec.args ?? [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let block: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) {
        this.event(line);
      } else if (line.trim() === '# EOF') {
        this.collection(block.join('\n'));
        block = [];
      } else block.push(line);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => logger.info({ plugin: spec.name }, line));
    child.on('error', (err) =>
      logger.warn({ plugin: spec.name, err: err.message }, 'plugin failed to start'),
    );
    child.stdin?.on('error', () => {});
    child.on('exit', (code, signal) => {
      this.child = undefined;
      if (this.stopped) return;
      logger.warn({ plugin: spec.name, code, signal }, 'plugin exited; restarting in 5s');
      this.restartTimer = setTimeout(() => this.start(), 5000);
    });
  }

  private collection(text: string): void {
    const { spec, host, now } = this.options;
    let parsed: ReturnType<typeof parseExposition>;
    try {
      parsed = parseExposition(text);
    } catch (err) {
      this.errors++;
      this.options.logger.warn(
        { plugin: spec.name, err: (err as Error).message },
        'plugin sent bad exposition',
      );
      return;
    }
    const t = now();
    const series = parsed.samples.map((s) => {
      const labels = [{ name: '__name__', value: s.name }];
      for (const [name, value] of Object.entries(s.labels)) if (value !== '') labels.push({ name, value });
      if (!('instance' in s.labels)) labels.push({ name: 'instance', value: host });
      if (!('plugin' in s.labels)) labels.push({ name: 'plugin', value: spec.name });
      return {
        labels: sortLabels(labels),
        timestamps: [s.timestamp ?? t],
        values: [s.value],
        histograms: [],
        exemplars: 0,
      };
    });
    this.collections++;
    this.options.onSeries(series);
  }

  private event(line: string): void {
    const { spec, host, now } = this.options;
    try {
      const e = JSON.parse(line) as Partial<AgentEvent>;
      if (typeof e.kind !== 'string' || typeof e.message !== 'string')
        throw new Error('kind and message are required');
      const attributes: Record<string, string> = { plugin: spec.name };
      for (const [k, v] of Object.entries(e.attributes ?? {})) attributes[k] = String(v);
      this.options.onEvent({
        time: typeof e.time === 'number' ? e.time : now(),
        host,
        source: 'app',
        kind: e.kind,
        severity: severities.has(e.severity as EventSeverity) ? (e.severity as EventSeverity) : 'info',
        message: e.message,
        attributes,
      });
    } catch (err) {
      this.errors++;
      this.options.logger.warn(
        { plugin: spec.name, err: (err as Error).message },
        'plugin sent a bad event line',
      );
    }
  }

  /** Asks the plugin for a collection. */
  collect(): void {
    this.child?.stdin?.write(`collect ${this.options.now()}\n`);
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.child?.kill('SIGTERM');
  }
}
