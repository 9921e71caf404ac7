import { randomUUID } from 'node:crypto';
import { announceSkip, type LogBackend, logBackend } from '@promstream/testkit';
import { type RegistryOptions, type RunningRegistry, startRegistry } from '../src/registry/server.js';

/** A log backend for a suite, or undefined (announced) when none can be had. */
export async function backendFor(suite: string): Promise<LogBackend | undefined> {
  const picked = await logBackend();
  if (!picked.ok) {
    announceSkip(suite, picked.reason);
    return undefined;
  }
  return picked.backend;
}

/** A registry topic no other run uses, so tests on a shared Kafka do not see each other's schemas. */
export function freshTopic(prefix = '_schemas-test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Starts a registry on a free port over the given topic. */
export function registryOn(
  backend: LogBackend,
  topic: string,
  options: Partial<RegistryOptions> = {},
): Promise<RunningRegistry> {
  return startRegistry({ brokers: backend.brokers, port: 0, topic, ...options });
}

/** Calls the registry's REST API and returns status and parsed body. */
export async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown; contentType: string | null }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (e.g. /metrics); keep the text.
  }
  return { status: res.status, body: parsed, contentType: res.headers.get('content-type') };
}

/** Deletes topics a test created on a shared Kafka; failures are ignored (the broker may be gone). */
export async function dropTopics(backend: LogBackend, topics: string[]): Promise<void> {
  const { default: kafkajs } = await import('kafkajs');
  const admin = new kafkajs.Kafka({ brokers: backend.brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics, timeout: 5000 });
  } catch {
    // Best effort: leftover test topics do no harm beyond clutter.
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
