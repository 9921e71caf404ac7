import http from 'node:http';
import net from 'node:net';
import pino, { type Logger } from 'pino';
import { Broker, type BrokerConfig } from './broker.js';
import { BrokerError, KafkaCode } from './errors.js';
import { FramePool, readFrames } from './frames.js';
import type { DurabilityProbe } from './log/durability-probe.js';
import { type BrokerMetrics, createMetrics } from './metrics.js';
import {
  API_VERSIONS_MAX,
  ApiKey,
  hasResponseTags,
  isFlexible,
  SUPPORTED_VERSIONS,
  supports,
} from './protocol/api-keys.js';
import { encodeApiVersionsResponse } from './protocol/api-versions.js';
import { decodeRequestHeader } from './protocol/header.js';
import { Reader } from './protocol/reader.js';
import { type ResponsePart, Writer } from './protocol/writer.js';
import { dropParts, sendParts } from './send.js';

/** Options of startBroker; everything but dataDir has a default. */
export interface BrokerOptions {
  dataDir: string;
  /** Listen address; 127.0.0.1 unless given. */
  host?: string;
  /** Listen port; 0 picks a free one. */
  port?: number;
  /** Host given to clients in Metadata; the listen host (or 127.0.0.1 for 0.0.0.0) by default. */
  advertisedHost?: string;
  autoCreateTopics?: boolean;
  defaultPartitions?: number;
  defaultTopicConfigs?: Record<string, string>;
  /** Largest request frame accepted (Kafka's socket.request.max.bytes, 100 MiB). */
  maxRequestBytes?: number;
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  retentionCheckMs?: number;
  /** Port of the /metrics endpoint; none unless given. */
  metricsPort?: number;
  logger?: Logger;
  now?: () => number;
  /** Test seam: told the order of writes, syncs and produce answers (none in production). */
  durabilityProbe?: DurabilityProbe;
}

/** A running broker. */
export interface RunningBroker {
  port: number;
  metricsPort: number | null;
  broker: Broker;
  close(): Promise<void>;
}

const API_NAMES = new Map<number, string>(Object.entries(ApiKey).map(([name, key]) => [key, name]));
/** Requests decoded but not yet answered on one connection before the socket pauses. */
const MAX_IN_FLIGHT = 64;
/** Free request buffers kept for reuse across the broker's connections (see FramePool). */
const FRAME_POOL_BYTES = 64 << 20;

/**
 * Starts the embedded Kafka-protocol broker: loads (and recovers) the log in
 * dataDir, listens for Kafka clients, and optionally serves /metrics.
 */
export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const host = options.host ?? '127.0.0.1';
  const log = options.logger ?? pino({ name: 'broker' });
  const metrics = createMetrics();
  const now = options.now ?? Date.now;
  const maxRequestBytes = options.maxRequestBytes ?? 104_857_600;
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const config: BrokerConfig = {
    dataDir: options.dataDir,
    advertisedHost: options.advertisedHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host),
    advertisedPort: port,
    autoCreateTopics: options.autoCreateTopics ?? true,
    defaultPartitions: options.defaultPartitions ?? 1,
    defaultTopicConfigs: options.defaultTopicConfigs ?? {},
    minSessionTimeoutMs: options.minSessionTimeoutMs ?? 6000,
    maxSessionTimeoutMs: options.maxSessionTimeoutMs ?? 1_800_000,
    now,
    durabilityProbe: options.durabilityProbe,
  };
  let broker: Broker;
  try {
    broker = new Broker(config, log, metrics);
  } catch (err) {
    server.close();
    throw err;
  }
  const sockets = new Set<net.Socket>();
  const frames = new FramePool(FRAME_POOL_BYTES);
  server.on('connection', (socket) => {
    sockets.add(socket);
    metrics.connections.inc();
    socket.once('close', () => {
      sockets.delete(socket);
      metrics.connections.dec();
    });
    serveConnection(socket, broker, log, metrics, maxRequestBytes, frames);
  });
  const tick = setInterval(() => broker.groups.tick(), 250);
  const retention = setInterval(() => {
    try {
      broker.enforceRetention();
    } catch (err) {
      log.error({ err }, 'retention');
    }
  }, options.retentionCheckMs ?? 30_000);
  let metricsServer: http.Server | null = null;
  let metricsPort: number | null = null;
  if (options.metricsPort !== undefined) {
    metricsServer = http.createServer((req, res) => {
      if (req.url === '/metrics') {
        void metrics.registry.metrics().then((text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        });
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => metricsServer?.listen(options.metricsPort, host, () => resolve()));
    const a = metricsServer.address();
    metricsPort = typeof a === 'object' && a !== null ? a.port : null;
  }
  log.info({ host, port, dataDir: options.dataDir, metricsPort }, 'broker listening');
  return {
    port,
    metricsPort,
    broker,
    close: async () => {
      clearInterval(tick);
      clearInterval(retention);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      if (metricsServer) await new Promise<void>((resolve) => metricsServer?.close(() => resolve()));
      broker.close();
      log.info('broker stopped');
    },
  };
}

/**
 * One client connection: splits the byte stream into size-prefixed frames,
 * starts each request as it arrives (so produce appends keep arrival order
 * and their fsyncs group), and writes responses strictly in request order.
 * A frame that cannot be understood closes the connection, as Kafka does.
 */
function serveConnection(
  socket: net.Socket,
  broker: Broker,
  log: Logger,
  metrics: BrokerMetrics,
  maxRequestBytes: number,
  frames: FramePool,
): void {
  socket.setNoDelay(true);
  const clientHost = socket.remoteAddress ?? '';
  const pending: Array<Promise<ResponsePart[] | null>> = [];
  let draining = false;
  let dead = false;

  const kill = (reason: string, extra?: object) => {
    if (dead) return;
    dead = true;
    metrics.badFrames.inc();
    log.warn({ client: clientHost, ...extra }, `closing connection: ${reason}`);
    socket.destroy();
  };

  const drain = async () => {
    if (draining) return;
    draining = true;
    // Runs on after the connection died too, so that every answer's file ranges are released.
    while (pending.length > 0) {
      const out = await (pending[0] as Promise<ResponsePart[] | null>);
      pending.shift();
      if (out !== null) {
        if (dead) dropParts(out);
        else {
          const failure = await sendParts(socket, out);
          if (failure !== null) {
            // A client that went away mid-answer is no fault of the broker's; a failed read is.
            if (!dead && !socket.destroyed)
              log.error({ client: clientHost }, `closing connection: ${failure}`);
            dead = true;
            socket.destroy();
          }
        }
      }
      if (!dead && pending.length < MAX_IN_FLIGHT && socket.isPaused()) socket.resume();
    }
    draining = false;
  };

  const onFrame = (frame: Buffer) => {
    const r = new Reader(frame);
    let header: ReturnType<typeof decodeRequestHeader>;
    try {
      header = decodeRequestHeader(r);
    } catch {
      kill('truncated request header');
      return;
    }
    const { apiKey, apiVersion, correlationId } = header;
    if (apiKey === ApiKey.ApiVersions && apiVersion > API_VERSIONS_MAX) {
      pending.push(Promise.resolve(unsupportedApiVersions(correlationId)));
      void drain();
      return;
    }
    if (!supports(apiKey, apiVersion)) {
      kill('unsupported api or version', { apiKey, apiVersion });
      return;
    }
    let clientId: string;
    try {
      clientId = r.nullableString() ?? '';
      r.tags(isFlexible(apiKey, apiVersion));
    } catch {
      kill('truncated request header');
      return;
    }
    const api = API_NAMES.get(apiKey) ?? String(apiKey);
    metrics.requests.inc({ api, version: apiVersion });
    const end = metrics.requestSeconds.startTimer({ api });
    // A produce request's bytes go back to the pool once its writes are done.
    const release = apiKey === ApiKey.Produce ? () => frames.give(frame) : undefined;
    const done = broker.handle({ apiKey, apiVersion, clientId, clientHost, release }, r).then(
      (body) => {
        end();
        return body === null ? null : responseFrame(correlationId, hasResponseTags(apiKey, apiVersion), body);
      },
      (err: unknown) => {
        end();
        if (err instanceof BrokerError && err.code === 'MALFORMED_REQUEST')
          kill(`malformed ${api} v${apiVersion}: ${err.message}`);
        else {
          log.error({ err, api, apiVersion }, 'request failed');
          kill(`internal error in ${api}`);
        }
        return null;
      },
    );
    pending.push(done);
    if (pending.length >= MAX_IN_FLIGHT) socket.pause();
    void drain();
  };

  readFrames(
    socket,
    maxRequestBytes,
    {
      frame: (frame) => {
        if (!dead) onFrame(frame);
      },
      badSize: (size) => kill('frame size out of bounds', { size }),
    },
    frames,
  );
  socket.on('error', () => {
    dead = true;
  });
  socket.on('close', () => {
    dead = true;
    void drain();
  });
}

/**
 * A response: its size, the header (the correlation id, then for flexible
 * versions empty tagged fields), then the body's parts (buffers and file ranges).
 */
function responseFrame(correlationId: number, headerTags: boolean, body: Writer): ResponsePart[] {
  const w = new Writer(8);
  w.int32(correlationId).tags(headerTags);
  const head = w.finish();
  const rest = body.parts();
  const size = Buffer.allocUnsafe(4);
  size.writeInt32BE(w.length + body.length);
  return [size, ...head, ...rest];
}

/** The answer to an ApiVersions request newer than the broker serves: v0 format, UNSUPPORTED_VERSION and the list, as Kafka does. */
function unsupportedApiVersions(correlationId: number): Buffer[] {
  const w = new Writer();
  w.int32(correlationId);
  encodeApiVersionsResponse(w, 0, KafkaCode.UNSUPPORTED_VERSION, SUPPORTED_VERSIONS);
  return frameOf(w);
}

function frameOf(w: Writer): Buffer[] {
  const size = Buffer.allocUnsafe(4);
  size.writeInt32BE(w.length);
  return [size, ...w.finish()];
}
