import { type Client, SchemaRegistryClient } from '@confluentinc/schemaregistry';
import avro from 'avsc';
import { type RecordKind, schemaJson } from './avro-schemas.js';
import { SchemaError, SchemaErrorCode } from './errors.js';
import { expandColumns, type SampleBatchBuilder } from './sample-columns.js';
import { TOPICS, valueSubject } from './topics.js';
import type { Anomaly, Event, SampleBatch } from './types.js';

/**
 * Record values in the Confluent wire format: a zero magic byte, the schema
 * id as a 4-byte big-endian integer, then the Avro binary body.
 *
 * Writing uses the id of this process's own schema (registered under
 * `<topic>-value` first, through `@confluentinc/schemaregistry`'s client), so a
 * producer always writes with the schema it was built with; the bytes are
 * those of the library's AvroSerializer pinned to that id.
 * Reading fetches the writer's schema by id through the same client and
 * resolves it to this process's schema with Avro's resolution rules, so an
 * old consumer reads new records and a new consumer reads old ones.
 */
export class RecordSerde<T> {
  private readonly client: Client;
  private readonly schema: string;
  private readonly reader: avro.Type;
  private readonly autoRegister: boolean;
  /** The 5-byte wire-format header (magic byte and schema id) of each topic written to. */
  private readonly writers = new Map<string, Promise<Buffer>>();
  private readonly resolvers = new Map<string, Promise<avro.Resolver | null>>();
  /** What a decoded value goes through before callers see it (SampleBatch: its columns expanded). */
  private readonly afterRead: (value: T) => T;

  /**
   * @param client the registry client
   * @param schema this process's schema, as JSON text
   * @param autoRegister register the schema under `<topic>-value` on first write (else look it up)
   */
  constructor(client: Client, schema: string, autoRegister = true) {
    this.client = client;
    this.schema = schema;
    this.autoRegister = autoRegister;
    this.reader = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
    this.afterRead =
      this.reader.name === 'io.promstream.SampleBatch'
        ? (value) => expandColumns(value as SampleBatch) as T
        : (value) => value;
  }

  /** The avsc type of this process's schema. */
  get type(): avro.Type {
    return this.reader;
  }

  /** Serializes a value for a topic; rejects with SCHEMA_INVALID_RECORD when it does not fit the schema. */
  async serialize(topic: string, value: T): Promise<Buffer> {
    const header = await this.writer(topic);
    return this.encode(topic, header, value);
  }

  /**
   * Serializes a SampleBatch built by column, with this serde's schema
   * (which must be SampleBatch version 2) and the topic's header; the
   * builder writes the bytes itself.
   */
  async serializeBuilder(topic: string, builder: SampleBatchBuilder): Promise<Buffer> {
    const header = await this.writer(topic);
    return builder.encode(header, this.reader);
  }

  /**
   * The Avro body behind the header. The schema id is fixed once registered,
   * so this is what the library's AvroSerializer writes with `useSchemaId`
   * (validate, then avsc's encoding) without its per-call registry cache
   * lookups and rule execution; a test checks the bytes are the same.
   */
  private encode(topic: string, header: Buffer, value: T): Buffer {
    let invalid: string | undefined;
    const valid = this.reader.isValid(value, {
      errorHook: (path, any, type) => {
        invalid ??= `Invalid message at ${path.join('.')}, expected ${String(type)}, got ${safeJson(any)}`;
      },
    });
    if (!valid || value === null || value === undefined) {
      throw new SchemaError(
        SchemaErrorCode.InvalidRecord,
        `serialize a record for ${topic}: ${invalid ?? 'message is empty'}`,
      );
    }
    let body: Buffer;
    try {
      body = this.reader.toBuffer(value);
    } catch (err) {
      throw new SchemaError(
        SchemaErrorCode.InvalidRecord,
        `serialize a record for ${topic}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const out = Buffer.allocUnsafe(header.length + body.length);
    header.copy(out, 0);
    body.copy(out, header.length);
    return out;
  }

  /** Reads a record of a topic, written with any schema the registry knows that resolves to this one. */
  async deserialize(topic: string, payload: Buffer): Promise<T> {
    if (payload.length < 5 || payload[0] !== 0) {
      throw new SchemaError(
        SchemaErrorCode.BadWireFormat,
        `read a record of ${topic}: not in the Confluent wire format (${payload.length} bytes, first byte ${payload[0]})`,
      );
    }
    const id = payload.readUInt32BE(1);
    const resolver = await this.resolverFor(topic, id);
    let value: T;
    try {
      const body = payload.subarray(5);
      value = (
        resolver === null ? this.reader.fromBuffer(body) : this.reader.fromBuffer(body, resolver)
      ) as T;
    } catch (err) {
      // The schema the id resolved to may be the wrong one (a registry that
      // answered wrongly and was fixed since): forget it, so the next read
      // asks the registry again instead of failing on the cached answer.
      this.forget(topic, id);
      throw new SchemaError(
        SchemaErrorCode.BodyMismatch,
        `decode a record of ${topic} with schema ${id}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return this.afterRead(value);
  }

  /** Drops what is cached about schema `id` of `topic`, here and in the registry client. */
  forget(topic: string, id: number): void {
    this.resolvers.delete(`${topic}\u0000${id}`);
    // The client caches schemas by subject and id with no way to drop one entry.
    this.client.clearCaches();
  }

  private writer(topic: string): Promise<Buffer> {
    let writer = this.writers.get(topic);
    if (writer === undefined) {
      writer = this.makeWriter(topic);
      writer.catch(() => this.writers.delete(topic));
      this.writers.set(topic, writer);
    }
    return writer;
  }

  private async makeWriter(topic: string): Promise<Buffer> {
    const subject = valueSubject(topic);
    const info = { schemaType: 'AVRO', schema: this.schema };
    let id: number;
    try {
      id = this.autoRegister
        ? await this.client.register(subject, info, false)
        : await this.client.getId(subject, info, false);
    } catch (err) {
      throw new SchemaError(
        SchemaErrorCode.Registry,
        `${this.autoRegister ? 'register' : 'look up'} the schema of ${subject}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const header = Buffer.alloc(5);
    header.writeUInt32BE(id, 1);
    return header;
  }

  private resolverFor(topic: string, id: number): Promise<avro.Resolver | null> {
    const key = `${topic}\u0000${id}`;
    let resolver = this.resolvers.get(key);
    if (resolver === undefined) {
      resolver = this.makeResolver(topic, id);
      resolver.catch(() => this.resolvers.delete(key));
      this.resolvers.set(key, resolver);
    }
    return resolver;
  }

  private async makeResolver(topic: string, id: number): Promise<avro.Resolver | null> {
    let writerSchema: string;
    try {
      writerSchema = (await this.client.getBySubjectAndId(valueSubject(topic), id)).schema;
    } catch (err) {
      // A 404 is an answer (no such id); anything else (no connection, 5xx) may pass.
      const status = (err as { status?: unknown }).status;
      throw new SchemaError(
        status === 404 ? SchemaErrorCode.UnknownSchemaId : SchemaErrorCode.Registry,
        `fetch schema ${id} for ${topic}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    try {
      const writer = avro.Type.forSchema(JSON.parse(writerSchema) as avro.Schema);
      return writer.equals(this.reader) ? null : this.reader.createResolver(writer);
    } catch (err) {
      // The registry's answer is kept by its client: drop it, so a fixed registry is asked again.
      this.client.clearCaches();
      throw new SchemaError(
        SchemaErrorCode.Unresolvable,
        `resolve schema ${id} of ${topic} to the reader's schema: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

/** JSON of a value for an error message, tolerating BigInt and cycles. */
function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The value type of each topic. */
export interface TopicValues {
  [TOPICS.samples]: SampleBatch;
  [TOPICS.derived]: SampleBatch;
  [TOPICS.events]: Event;
  [TOPICS.anomalies]: Anomaly;
}

/** Typed serde for every record type on the log. */
export interface Serdes {
  /** SampleBatch on any topic (samples, derived, or a test topic). */
  sampleBatch: RecordSerde<SampleBatch>;
  event: RecordSerde<Event>;
  anomaly: RecordSerde<Anomaly>;
  /** Serializes the value of one of the project's topics. */
  serialize<K extends keyof TopicValues>(topic: K, value: TopicValues[K]): Promise<Buffer>;
  /** Deserializes the value of one of the project's topics. */
  deserialize<K extends keyof TopicValues>(topic: K, payload: Buffer): Promise<TopicValues[K]>;
  /** The registry client underneath. */
  client: Client;
}

/** Options of createSerdes. */
export interface SerdesOptions {
  registryUrl: string;
  /** Register this process's schemas on first write (the default), or only look them up. */
  autoRegister?: boolean;
}

const KIND_OF: Record<keyof TopicValues, RecordKind> = {
  [TOPICS.samples]: 'sampleBatch',
  [TOPICS.derived]: 'sampleBatch',
  [TOPICS.events]: 'event',
  [TOPICS.anomalies]: 'anomaly',
};

/** Builds the serdes of every record type against a registry at `registryUrl`. */
export function createSerdes(options: SerdesOptions): Serdes {
  const client = new SchemaRegistryClient({ baseURLs: [options.registryUrl] });
  const auto = options.autoRegister ?? true;
  const byKind = {
    sampleBatch: new RecordSerde<SampleBatch>(client, schemaJson('sampleBatch'), auto),
    event: new RecordSerde<Event>(client, schemaJson('event'), auto),
    anomaly: new RecordSerde<Anomaly>(client, schemaJson('anomaly'), auto),
  };
  const serdeOf = (topic: string): RecordSerde<unknown> => {
    const kind = KIND_OF[topic as keyof TopicValues];
    if (kind === undefined) throw new RangeError(`no record type is defined for topic ${topic}`);
    return byKind[kind] as RecordSerde<unknown>;
  };
  return {
    ...byKind,
    client,
    serialize: (topic, value) => serdeOf(topic).serialize(topic, value),
    deserialize: async (topic, payload) => (await serdeOf(topic).deserialize(topic, payload)) as never,
  };
}
