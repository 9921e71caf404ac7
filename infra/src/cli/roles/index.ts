import type { Role } from '../role.js';
import { agentRole } from './agent.js';
import { anomalyRole } from './anomaly.js';
import { blockRole } from './block.js';
import { blockBuilderRole } from './block-builder.js';
import { brokerRole } from './broker.js';
import { compactorRole } from './compactor.js';
import { configRole } from './config.js';
import { deadletterRole } from './deadletter.js';
import { eventStoreRole } from './event-store.js';
import { eventsRole } from './events.js';
import { exportRole } from './export.js';
import { gatewayRole } from './gateway.js';
import { importRole } from './import.js';
import { queryRole } from './query.js';
import { registryRole } from './registry.js';
import { replayRole } from './replay.js';
import { rollupsRole } from './rollups.js';
import { rulesRole } from './rules.js';
import { upRole } from './up.js';

/**
 * The roles that exist so far, in the order `promstream --help` lists them.
 * A role appears here once the issue that builds it lands.
 */
export const roles: Role[] = [
  upRole,
  brokerRole,
  registryRole,
  gatewayRole,
  agentRole,
  blockBuilderRole,
  compactorRole,
  anomalyRole,
  eventStoreRole,
  rollupsRole,
  queryRole,
  rulesRole,
  eventsRole,
  replayRole,
  deadletterRole,
  blockRole,
  importRole,
  exportRole,
  configRole,
];
