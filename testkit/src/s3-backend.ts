import { dockerAvailable } from './docker.js';
import type { Pick } from './log-backend.js';

/** Where an S3-compatible server listens and how to sign requests to it. */
export interface S3Backend {
  kind: 'environment' | 'testcontainers';
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  forcePathStyle: boolean;
  stop(): Promise<void>;
}

/** The S3 server given by S3_ENDPOINT and its credentials in the environment. */
export function realS3(): Pick<S3Backend> {
  const endpoint = process.env.S3_ENDPOINT;
  if (endpoint === undefined || endpoint === '') {
    return { ok: false, reason: 'S3_ENDPOINT is not set (.ci/run starts an S3 server and sets it)' };
  }
  return {
    ok: true,
    backend: {
      kind: 'environment',
      endpoint,
      region: process.env.S3_REGION ?? 'us-east-1',
      accessKeyId: process.env.S3_ACCESS_KEY_ID ?? process.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? process.env.AWS_SECRET_ACCESS_KEY ?? '',
      bucket: process.env.S3_BUCKET ?? 'promstream-test',
      forcePathStyle: true,
      stop: async () => {},
    },
  };
}

async function startMinioContainer(): Promise<Pick<S3Backend>> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('minio/minio:latest')
    .withCommand(['server', '/data'])
    .withEnvironment({ MINIO_ROOT_USER: 'promstream', MINIO_ROOT_PASSWORD: 'promstream-secret' })
    .withExposedPorts(9000)
    .withWaitStrategy(Wait.forHttp('/minio/health/ready', 9000))
    .start();
  return {
    ok: true,
    backend: {
      kind: 'testcontainers',
      endpoint: `http://${container.getHost()}:${container.getMappedPort(9000)}`,
      region: 'us-east-1',
      accessKeyId: 'promstream',
      secretAccessKey: 'promstream-secret',
      bucket: 'promstream-test',
      forcePathStyle: true,
      stop: async () => {
        await container.stop();
      },
    },
  };
}

/**
 * The S3 server for a suite: S3_ENDPOINT from the environment, then
 * testcontainers where a Docker engine answers. Callers fall back to the
 * filesystem store themselves when neither is there.
 */
export async function s3Backend(): Promise<Pick<S3Backend>> {
  const env = realS3();
  if (env.ok) return env;
  if (await dockerAvailable()) return startMinioContainer();
  return { ok: false, reason: `${env.reason}, and no Docker engine answers for testcontainers` };
}
