import net from 'node:net';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { freePort, realKafka, realS3, waitForPort } from '../src/index.js';

describe('backend pickers', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  test('realKafka takes the brokers from KAFKA_BROKERS and gives a reason without it', () => {
    vi.stubEnv('KAFKA_BROKERS', ' 127.0.0.1:1, 127.0.0.1:2 ');
    const picked = realKafka();
    expect(picked.ok && picked.backend.brokers).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
    vi.stubEnv('KAFKA_BROKERS', '');
    const absent = realKafka();
    expect(absent.ok).toBe(false);
    expect(!absent.ok && absent.reason).toMatch(/KAFKA_BROKERS/);
  });

  test('realS3 reads the endpoint, bucket and credentials', () => {
    vi.stubEnv('S3_ENDPOINT', 'http://127.0.0.1:9');
    vi.stubEnv('S3_BUCKET', 'b');
    vi.stubEnv('S3_ACCESS_KEY_ID', 'k');
    vi.stubEnv('S3_SECRET_ACCESS_KEY', 's');
    const picked = realS3();
    expect(picked.ok).toBe(true);
    if (picked.ok) {
      expect(picked.backend).toMatchObject({ endpoint: 'http://127.0.0.1:9', bucket: 'b', accessKeyId: 'k' });
    }
    vi.stubEnv('S3_ENDPOINT', '');
    expect(realS3().ok).toBe(false);
  });
});

describe('ports', () => {
  test('waitForPort resolves once a listener appears and rejects when none does', async () => {
    const port = await freePort();
    await expect(waitForPort('127.0.0.1', port, 300)).rejects.toThrow(/nothing listens/);
    const server = net.createServer().listen(port, '127.0.0.1');
    await waitForPort('127.0.0.1', port, 2000);
    server.close();
  });
});
