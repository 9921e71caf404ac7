export { dockerAvailable } from './docker.js';
export { type FlinkJob, flinkJob, flinkJobDir, flinkProjectDigest } from './flink.js';
export { KAFKA_TOOLS_VERSION, type KafkaTools, kafkaLibsDir, kafkaTools } from './kafka-tools.js';
export {
  type LogBackend,
  logBackend,
  type Pick,
  realKafka,
  repoRoot,
  startEmbeddedBroker,
} from './log-backend.js';
export { type GeneratedFile, type OpenMetricsShape, writeOpenMetricsFile } from './openmetrics-gen.js';
export { type MeasuredRun, runMeasured } from './peak-rss.js';
export { freePort, waitForPort } from './ports.js';
export {
  PROMETHEUS_REFERENCE_VERSION,
  type PrometheusReference,
  prometheusCacheBin,
  prometheusReference,
  prometheusVersion,
} from './prometheus.js';
export { seededRandom } from './random.js';
export { realS3, type S3Backend, s3Backend } from './s3-backend.js';
export { announceSkip } from './skip.js';
export { BAD_TENANT_IDS } from './tenants.js';
export { thanosTool } from './thanos.js';
export { findTool } from './tools.js';
