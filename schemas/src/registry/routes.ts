import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { RegistryError, RegistryErrorCode } from './errors.js';
import type { Registry, SchemaSubmission } from './registry.js';

/** Options of the REST plugin. */
export interface RegistryRoutesOptions {
  registry: Registry;
}

type Params = { subject: string; version: string; id: string };
type Query = {
  normalize?: string;
  deleted?: string;
  permanent?: string;
  defaultToGlobal?: string;
  verbose?: string;
};

const truthy = (s: string | undefined): boolean => s === 'true';

function schemaId(text: string): number {
  const id = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(id)) {
    throw new RegistryError(RegistryErrorCode.SchemaNotFound, `Schema ${text} not found`);
  }
  return id;
}

function compatibilityAnswer(
  reasons: string[],
  verbose: boolean,
): { is_compatible: boolean; messages?: string[] } {
  return verbose
    ? { is_compatible: reasons.length === 0, messages: reasons }
    : { is_compatible: reasons.length === 0 };
}

/**
 * The subset of Confluent's schema registry REST API that
 * `@confluentinc/schemaregistry` and the usual tools call. Bodies and
 * answers are Confluent's; errors are `{"error_code", "message"}` with their
 * codes. Association lookups answer 404, so clients fall back to the topic
 * name strategy (`<topic>-value`).
 */
export const registryRoutes: FastifyPluginAsync<RegistryRoutesOptions> = async (
  app: FastifyInstance,
  options,
) => {
  const { registry } = options;

  app.get('/', async () => ({}));
  app.get('/schemas/types', async () => ['AVRO']);
  app.get('/mode', async () => registry.modes.global());
  app.put<{ Body: unknown }>('/mode', async (req) => registry.modes.set(null, req.body));
  app.get<{ Params: Params; Querystring: Query }>('/mode/:subject', async (req) =>
    registry.modes.subject(req.params.subject, truthy(req.query.defaultToGlobal)),
  );
  app.put<{ Params: Params; Body: unknown }>('/mode/:subject', async (req) =>
    registry.modes.set(req.params.subject, req.body),
  );
  app.delete<{ Params: Params }>('/mode/:subject', async (req) => registry.modes.delete(req.params.subject));

  app.get<{ Querystring: Query }>('/subjects', async (req) => registry.subjects(truthy(req.query.deleted)));

  app.post<{ Params: Params; Querystring: Query; Body: SchemaSubmission }>(
    '/subjects/:subject/versions',
    async (req) => registry.register(req.params.subject, req.body ?? {}, truthy(req.query.normalize)),
  );

  app.post<{ Params: Params; Querystring: Query; Body: SchemaSubmission }>(
    '/subjects/:subject',
    async (req) => registry.lookup(req.params.subject, req.body ?? {}, truthy(req.query.deleted)),
  );

  app.get<{ Params: Params; Querystring: Query }>('/subjects/:subject/versions', async (req) =>
    registry.versionNumbers(req.params.subject, truthy(req.query.deleted)),
  );

  app.get<{ Params: Params; Querystring: Query }>('/subjects/:subject/versions/:version', async (req) =>
    registry.getVersion(req.params.subject, req.params.version, truthy(req.query.deleted)),
  );

  app.get<{ Params: Params; Querystring: Query }>(
    '/subjects/:subject/versions/:version/schema',
    async (req, reply) => {
      const v = registry.getVersion(req.params.subject, req.params.version, truthy(req.query.deleted));
      return reply.type('application/vnd.schemaregistry.v1+json').send(v.schema);
    },
  );

  // Schema references are not supported, so no version is ever referenced by another.
  app.get<{ Params: Params }>('/subjects/:subject/versions/:version/referencedby', async (req) => {
    registry.getVersion(req.params.subject, req.params.version, true);
    return [];
  });

  app.delete<{ Params: Params; Querystring: Query }>('/subjects/:subject', async (req) =>
    registry.deleteSubject(req.params.subject, truthy(req.query.permanent)),
  );

  app.delete<{ Params: Params; Querystring: Query }>('/subjects/:subject/versions/:version', async (req) =>
    registry.deleteVersion(req.params.subject, req.params.version, truthy(req.query.permanent)),
  );

  app.get<{ Params: Params }>('/schemas/ids/:id', async (req) =>
    registry.schemaById(schemaId(req.params.id)),
  );
  app.get<{ Params: Params }>('/schemas/ids/:id/schema', async (req, reply) =>
    reply
      .type('application/vnd.schemaregistry.v1+json')
      .send(registry.schemaById(schemaId(req.params.id)).schema),
  );
  app.get<{ Params: Params }>('/schemas/ids/:id/versions', async (req) =>
    registry.versionsOfId(schemaId(req.params.id)),
  );

  app.post<{ Params: Params; Querystring: Query; Body: SchemaSubmission }>(
    '/compatibility/subjects/:subject/versions/:version',
    async (req) =>
      compatibilityAnswer(
        registry.checkCompatibility(req.params.subject, req.params.version, req.body ?? {}),
        truthy(req.query.verbose),
      ),
  );
  app.post<{ Params: Params; Querystring: Query; Body: SchemaSubmission }>(
    '/compatibility/subjects/:subject/versions',
    async (req) =>
      compatibilityAnswer(
        registry.checkCompatibility(req.params.subject, undefined, req.body ?? {}),
        truthy(req.query.verbose),
      ),
  );

  app.get('/config', async () => registry.globalConfig());
  app.put<{ Body: unknown }>('/config', async (req) => registry.setConfig(null, req.body));
  app.get<{ Params: Params; Querystring: Query }>('/config/:subject', async (req) =>
    registry.subjectConfig(req.params.subject, truthy(req.query.defaultToGlobal)),
  );
  app.put<{ Params: Params; Body: unknown }>('/config/:subject', async (req) =>
    registry.setConfig(req.params.subject, req.body),
  );
  app.delete<{ Params: Params }>('/config/:subject', async (req) =>
    registry.deleteConfig(req.params.subject),
  );

  // Schema associations are not kept; the client treats 404 as "none" and uses <topic>-value.
  app.all('/associations/*', async () => {
    throw new RegistryError(RegistryErrorCode.NotFound, 'HTTP 404 Not Found');
  });
};
