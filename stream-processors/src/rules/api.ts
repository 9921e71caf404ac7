import { formatExpr, parseExpr, TENANT_HEADER } from '@promstream/query';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { type Alert, AlertingRule, type AlertState } from './alerting-rule.js';
import { RulesError } from './errors.js';
import type { RuleGroup } from './group.js';
import { labelsMap } from './labels-util.js';
import type { RulesManager } from './manager.js';

/**
 * The rules role's HTTP API as a fastify plugin: `/api/v1/rules` and
 * `/api/v1/alerts` in Prometheus' JSON format (the tenant from
 * `X-Scope-OrgID`), `POST /-/reload`, `/-/healthy`, `/-/ready` and `/metrics`.
 */

/** What the plugin serves. */
export interface RulesApiOptions {
  manager: Pick<RulesManager, 'groups' | 'reload'>;
  registry: Registry;
  defaultTenant: string;
}

function iso(ms: number): string {
  return ms === 0 ? '0001-01-01T00:00:00Z' : new Date(ms).toISOString();
}

/** Go's `strconv.FormatFloat(v, 'e', -1, 64)`, as Prometheus writes alert values. */
function goExp(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const [m, e] = v.toExponential().split('e') as [string, string];
  const n = Number(e);
  return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
}

function query(expr: string): string {
  try {
    return formatExpr(parseExpr(expr));
  } catch {
    return expr;
  }
}

function alertJson(a: Alert) {
  return {
    labels: labelsMap(a.labels),
    annotations: a.annotations,
    state: a.state,
    activeAt: iso(a.activeAt),
    ...(a.keepFiringSince === undefined ? {} : { keepFiringSince: iso(a.keepFiringSince) }),
    value: goExp(a.value),
  };
}

function groupJson(g: RuleGroup, type: string | undefined) {
  const rules = g.rules.flatMap((r, i) => {
    const h = g.health[i]!;
    const common = {
      name: r.name,
      query: query(r.spec.expr),
      labels: r.labels,
      health: h.health,
      ...(h.lastError === '' ? {} : { lastError: h.lastError }),
      evaluationTime: h.evaluationTime,
      lastEvaluation: iso(h.lastEvaluation),
    };
    if (r instanceof AlertingRule) {
      if (type === 'record') return [];
      const alerts = r.activeAlerts();
      const rank: Record<AlertState, number> = { inactive: 0, pending: 1, firing: 2 };
      const state = alerts.reduce<AlertState>((s, a) => (rank[a.state] > rank[s] ? a.state : s), 'inactive');
      return [
        {
          state,
          ...common,
          duration: r.spec.for / 1000,
          keepFiringFor: r.spec.keepFiringFor / 1000,
          annotations: r.spec.annotations,
          alerts: alerts.map(alertJson),
          type: 'alerting',
        },
      ];
    }
    if (type === 'alert') return [];
    return [{ ...common, type: 'recording' }];
  });
  return {
    name: g.name,
    file: g.file,
    rules,
    interval: g.interval / 1000,
    limit: g.spec.limit,
    evaluationTime: g.evaluationTime,
    lastEvaluation: iso(g.lastEvaluation),
  };
}

/** Registers the routes. */
export async function rulesApi(app: FastifyInstance, options: RulesApiOptions): Promise<void> {
  const tenantOf = (req: FastifyRequest) => {
    const h = req.headers[TENANT_HEADER];
    return typeof h === 'string' && h !== '' ? h : options.defaultTenant;
  };
  app.get('/api/v1/rules', async (req) => {
    const q = req.query as { type?: string };
    const type = q.type === 'alert' || q.type === 'record' ? q.type : undefined;
    const groups = options.manager.groups(tenantOf(req)).map((s) => groupJson(s.group, type));
    return { status: 'success', data: { groups } };
  });
  app.get('/api/v1/alerts', async (req) => {
    const alerts = options.manager
      .groups(tenantOf(req))
      .flatMap((s) => s.group.rules)
      .flatMap((r) => (r instanceof AlertingRule ? r.activeAlerts().map(alertJson) : []));
    return { status: 'success', data: { alerts } };
  });
  const reload = async (_req: FastifyRequest, reply: FastifyReply) => {
    try {
      await options.manager.reload();
      return reply.code(200).type('text/plain').send('');
    } catch (err) {
      const message = err instanceof RulesError ? err.message : `reload: ${(err as Error).message}`;
      return reply.code(500).type('text/plain').send(`failed to reload config: ${message}\n`);
    }
  };
  app.post('/-/reload', reload);
  app.put('/-/reload', reload);
  app.get('/-/healthy', async (_req, reply) =>
    reply.type('text/plain').send('Rules evaluator is Healthy.\n'),
  );
  app.get('/-/ready', async (_req, reply) => reply.type('text/plain').send('Rules evaluator is Ready.\n'));
  app.get('/metrics', async (_req, reply) =>
    reply.type(options.registry.contentType).send(await options.registry.metrics()),
  );
}
