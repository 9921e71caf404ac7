import { randomUUID } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { announceSkip, realS3 } from '@promstream/testkit';
import { describe, expect, test } from 'vitest';

const s3 = realS3();
if (!s3.ok) announceSkip('@aws-sdk/client-s3 smoke test on the S3 server', s3.reason);

describe.skipIf(!s3.ok)('@aws-sdk/client-s3 against the real S3 server', () => {
  const backend = s3.ok ? s3.backend : undefined;
  const client = new S3Client({
    endpoint: backend?.endpoint,
    region: backend?.region,
    forcePathStyle: true,
    credentials: { accessKeyId: backend?.accessKeyId ?? '', secretAccessKey: backend?.secretAccessKey ?? '' },
  });
  const Bucket = backend?.bucket ?? '';
  const prefix = `smoke-${randomUUID()}/`;

  test('puts, lists, range-gets, conditionally puts and deletes', async () => {
    const body = Buffer.from('0123456789abcdef');
    await client.send(new PutObjectCommand({ Bucket, Key: `${prefix}a`, Body: body }));
    await client.send(new PutObjectCommand({ Bucket, Key: `${prefix}b`, Body: body }));

    const listed = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([`${prefix}a`, `${prefix}b`]);

    const range = await client.send(new GetObjectCommand({ Bucket, Key: `${prefix}a`, Range: 'bytes=4-7' }));
    expect(Buffer.from(await range.Body!.transformToByteArray()).toString()).toBe('4567');

    // A create-only put of an existing key must be refused with 412.
    const refused = await client
      .send(new PutObjectCommand({ Bucket, Key: `${prefix}a`, Body: 'other', IfNoneMatch: '*' }))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(refused).toBeInstanceOf(S3ServiceException);
    expect((refused as S3ServiceException).$metadata.httpStatusCode).toBe(412);
    await client.send(new PutObjectCommand({ Bucket, Key: `${prefix}c`, Body: 'new', IfNoneMatch: '*' }));

    for (const key of ['a', 'b', 'c'])
      await client.send(new DeleteObjectCommand({ Bucket, Key: prefix + key }));
    const after = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix }));
    expect(after.Contents ?? []).toEqual([]);
  });
});
