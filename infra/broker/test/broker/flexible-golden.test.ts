import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeApiVersionsRequest, encodeApiVersionsResponse } from '../../src/protocol/api-versions.js';
import { decodeCreateTopicsRequest, encodeCreateTopicsResponse } from '../../src/protocol/create-topics.js';
import { decodeDeleteGroupsRequest, encodeDeleteGroupsResponse } from '../../src/protocol/delete-groups.js';
import {
  decodeDescribeConfigsRequest,
  encodeDescribeConfigsResponse,
} from '../../src/protocol/describe-configs.js';
import {
  decodeDescribeGroupsRequest,
  encodeDescribeGroupsResponse,
} from '../../src/protocol/describe-groups.js';
import {
  decodeFetchRequest,
  encodeFetchResponse,
  type FetchPartitionResult,
} from '../../src/protocol/fetch.js';
import {
  decodeFindCoordinatorRequest,
  encodeFindCoordinatorResponse,
} from '../../src/protocol/find-coordinator.js';
import { decodeHeartbeatRequest, encodeHeartbeatResponse } from '../../src/protocol/heartbeat.js';
import {
  decodeInitProducerIdRequest,
  encodeInitProducerIdResponse,
} from '../../src/protocol/init-producer-id.js';
import { decodeJoinGroupRequest, encodeJoinGroupResponse } from '../../src/protocol/join-group.js';
import { decodeLeaveGroupRequest, encodeLeaveGroupResponse } from '../../src/protocol/leave-group.js';
import { decodeListGroupsRequest, encodeListGroupsResponse } from '../../src/protocol/list-groups.js';
import { decodeListOffsetsRequest, encodeListOffsetsResponse } from '../../src/protocol/list-offsets.js';
import {
  decodeMetadataRequest,
  encodeMetadataResponse,
  OPERATIONS_OMITTED,
} from '../../src/protocol/metadata.js';
import { decodeOffsetCommitRequest, encodeOffsetCommitResponse } from '../../src/protocol/offset-commit.js';
import { decodeOffsetFetchRequest, encodeOffsetFetchResponse } from '../../src/protocol/offset-fetch.js';
import { decodeProduceRequest, encodeProduceResponse } from '../../src/protocol/produce.js';
import { Reader } from '../../src/protocol/reader.js';
import { decodeSyncGroupRequest, encodeSyncGroupResponse } from '../../src/protocol/sync-group.js';
import { type FileRange, Writer } from '../../src/protocol/writer.js';
import { GOLDEN } from './golden-flexible.js';

const ID = '0123456789abcdeffedcba9876543210';
const ZERO = '0'.repeat(32);
const NODE = { nodeId: 0, host: '127.0.0.1', port: 9092 };

/** The Fetch v12 answer of the golden vector: partition 0 with three bytes of records, partition 1 unknown. */
function fetched(
  records: Buffer | FileRange[],
): Array<{ topic: string; partitions: FetchPartitionResult[] }> {
  return [
    {
      topic: 'events',
      partitions: [
        { index: 0, errorCode: 0, highWatermark: 10, logStartOffset: 0, records },
        { index: 1, errorCode: 3, highWatermark: -1, logStartOffset: -1, records: null },
      ],
    },
  ];
}

/** A Reader over a golden vector; the test checks it is read to its last byte. */
function reader(name: string): Reader {
  const hex = GOLDEN[name];
  if (hex === undefined) throw new Error(`no golden vector ${name}`);
  return new Reader(Buffer.from(hex, 'hex'));
}

function bytes(fill: (w: Writer) => void): string {
  const w = new Writer();
  fill(w);
  return Buffer.concat(w.finish()).toString('hex');
}

/** Each request vector, how to decode it, and the values it must give. */
const REQUESTS: Array<[string, (r: Reader) => unknown, unknown]> = [
  [
    'ApiVersionsRequest v4',
    (r) => decodeApiVersionsRequest(r, 4),
    { clientSoftwareName: 'apache-kafka-java', clientSoftwareVersion: '4.3.1' },
  ],
  [
    'MetadataRequest v12',
    (r) => decodeMetadataRequest(r, 12),
    {
      topics: [
        { id: ZERO, name: 'events' },
        { id: ID, name: null },
      ],
      allowAutoTopicCreation: true,
      includeTopicAuthorizedOperations: false,
    },
  ],
  [
    'FindCoordinatorRequest v4',
    (r) => decodeFindCoordinatorRequest(r, 4),
    { keys: ['g1', 'g2'], keyType: 0 },
  ],
  [
    'ListOffsetsRequest v6',
    (r) => decodeListOffsetsRequest(r, 6),
    {
      replicaId: -1,
      topics: [{ name: 'events', partitions: [{ index: 0, timestamp: -1, maxNumOffsets: 1 }] }],
    },
  ],
  [
    'OffsetFetchRequest v8',
    (r) => decodeOffsetFetchRequest(r, 8),
    {
      groups: [
        { groupId: 'g1', topics: null },
        { groupId: 'g2', topics: [{ name: 'events', partitions: [0, 1] }] },
      ],
    },
  ],
  [
    'DescribeGroupsRequest v5',
    (r) => decodeDescribeGroupsRequest(r, 5),
    { groups: ['g1'], includeAuthorizedOperations: true },
  ],
  ['ListGroupsRequest v5', (r) => decodeListGroupsRequest(r, 5), { states: ['Stable'], types: ['classic'] }],
  [
    'CreateTopicsRequest v7',
    (r) => decodeCreateTopicsRequest(r, 7),
    {
      topics: [
        {
          name: 'events',
          numPartitions: 3,
          replicationFactor: -1,
          assignments: [],
          configs: [{ name: 'retention.ms', value: '1000' }],
        },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    },
  ],
  [
    'DescribeConfigsRequest v4',
    (r) => decodeDescribeConfigsRequest(r, 4),
    { resources: [{ type: 2, name: 'events', keys: null }], includeSynonyms: false },
  ],
];
REQUESTS.push(
  [
    'JoinGroupRequest v9',
    (r) => decodeJoinGroupRequest(r, 9),
    {
      groupId: 'g1',
      sessionTimeoutMs: 45_000,
      rebalanceTimeoutMs: 300_000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from([0, 1]) }],
    },
  ],
  [
    'SyncGroupRequest v5',
    (r) => decodeSyncGroupRequest(r, 5),
    {
      groupId: 'g1',
      generationId: 1,
      memberId: 'm-1',
      assignments: [{ memberId: 'm-1', assignment: Buffer.from([9]) }],
    },
  ],
  [
    'HeartbeatRequest v4',
    (r) => decodeHeartbeatRequest(r, 4),
    { groupId: 'g1', generationId: 1, memberId: 'm-1' },
  ],
  ['LeaveGroupRequest v5', (r) => decodeLeaveGroupRequest(r, 5), { groupId: 'g1', memberIds: ['m-1'] }],
  [
    'OffsetCommitRequest v9',
    (r) => decodeOffsetCommitRequest(r, 9),
    {
      groupId: 'g1',
      generationId: 1,
      memberId: 'm-1',
      topics: [{ name: 'events', partitions: [{ index: 0, offset: 42, metadata: '' }] }],
    },
  ],
  [
    'InitProducerIdRequest v4',
    (r) => decodeInitProducerIdRequest(r, 4),
    { transactionalId: null, transactionTimeoutMs: 2_147_483_647 },
  ],
);
REQUESTS.push(
  [
    'ProduceRequest v11',
    (r) => decodeProduceRequest(r, 11),
    {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topics: [{ name: 'events', partitions: [{ index: 0, records: Buffer.from([1, 2, 3]) }] }],
    },
  ],
  [
    'FetchRequest v12',
    (r) => decodeFetchRequest(r, 12),
    {
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52_428_800,
      isolationLevel: 0,
      topics: [{ topic: 'events', partitions: [{ partition: 0, fetchOffset: 7, maxBytes: 1_048_576 }] }],
    },
  ],
);

REQUESTS.push(['DeleteGroupsRequest v2', (r) => decodeDeleteGroupsRequest(r, 2), { groups: ['g1', 'g2'] }]);

/** Each response vector and how to encode the same values. */
const RESPONSES: Array<[string, (w: Writer) => void]> = [
  [
    'ApiVersionsResponse v3',
    (w) =>
      encodeApiVersionsResponse(w, 3, 0, [
        { apiKey: 0, min: 0, max: 7 },
        { apiKey: 3, min: 0, max: 13 },
      ]),
  ],
  ...[12, 13].map((v): [string, (w: Writer) => void] => [
    `MetadataResponse v${v}`,
    (w) =>
      encodeMetadataResponse(w, v, NODE, 'promstream-embedded', [
        {
          errorCode: 0,
          name: 'events',
          id: ID,
          partitions: [{ errorCode: 0, index: 0 }],
          authorizedOperations: OPERATIONS_OMITTED,
        },
      ]),
  ]),
  [
    'FindCoordinatorResponse v4',
    (w) =>
      encodeFindCoordinatorResponse(w, 4, [
        { key: 'g1', errorCode: 0, errorMessage: null, node: NODE },
        { key: 't1', errorCode: 15, errorMessage: 'no', node: { nodeId: -1, host: '', port: -1 } },
      ]),
  ],
  [
    'ListOffsetsResponse v6',
    (w) =>
      encodeListOffsetsResponse(w, 6, [
        { name: 'events', partitions: [{ index: 0, errorCode: 0, timestamp: -1, offset: 42 }] },
      ]),
  ],
  [
    'OffsetFetchResponse v8',
    (w) =>
      encodeOffsetFetchResponse(w, 8, [
        {
          groupId: 'g2',
          errorCode: 0,
          topics: [
            {
              name: 'events',
              partitions: [
                { index: 0, offset: 7, metadata: '', errorCode: 0 },
                { index: 1, offset: -1, metadata: '', errorCode: 0 },
              ],
            },
          ],
        },
      ]),
  ],
  [
    'DescribeGroupsResponse v5',
    (w) =>
      encodeDescribeGroupsResponse(
        w,
        5,
        [
          {
            errorCode: 0,
            groupId: 'g1',
            state: 'Stable',
            protocolType: 'consumer',
            protocol: 'range',
            members: [
              {
                memberId: 'm-1',
                groupInstanceId: null,
                clientId: 'c',
                clientHost: '/127.0.0.1',
                metadata: Buffer.from([1, 2]),
                assignment: Buffer.from([3]),
              },
            ],
          },
        ],
        OPERATIONS_OMITTED,
      ),
  ],
  [
    'ListGroupsResponse v5',
    (w) =>
      encodeListGroupsResponse(w, 5, [
        { groupId: 'g1', protocolType: 'consumer', state: 'Stable', type: 'classic' },
      ]),
  ],
  [
    'CreateTopicsResponse v7',
    (w) =>
      encodeCreateTopicsResponse(w, 7, [
        {
          name: 'events',
          id: ID,
          errorCode: 0,
          errorMessage: null,
          numPartitions: 3,
          replicationFactor: 1,
          configs: [
            { name: 'retention.ms', value: '1000', isDefault: false },
            { name: 'segment.ms', value: '604800000', isDefault: true },
          ],
        },
      ]),
  ],
  [
    'DescribeConfigsResponse v4',
    (w) =>
      encodeDescribeConfigsResponse(w, 4, [
        {
          errorCode: 0,
          errorMessage: null,
          type: 2,
          name: 'events',
          configs: [{ name: 'retention.ms', value: '1000', readOnly: false, isDefault: false }],
        },
      ]),
  ],
];
const JOINED = {
  errorCode: 0,
  generationId: 1,
  protocolName: 'range',
  leader: 'm-1',
  memberId: 'm-1',
  members: [{ memberId: 'm-1', groupInstanceId: null, metadata: Buffer.from([0, 1]) }],
};
RESPONSES.push(
  ['JoinGroupResponse v9', (w) => encodeJoinGroupResponse(w, 9, JOINED, 'consumer')],
  [
    'JoinGroupResponse v9 failed',
    (w) =>
      encodeJoinGroupResponse(
        w,
        9,
        { errorCode: 25, generationId: -1, protocolName: '', leader: '', memberId: 'm-1', members: [] },
        'consumer',
      ),
  ],
  [
    'SyncGroupResponse v5',
    (w) =>
      encodeSyncGroupResponse(w, 5, {
        errorCode: 0,
        assignment: Buffer.from([9]),
        protocolType: 'consumer',
        protocol: 'range',
      }),
  ],
  ['HeartbeatResponse v4', (w) => encodeHeartbeatResponse(w, 4, 27)],
  ['LeaveGroupResponse v5', (w) => encodeLeaveGroupResponse(w, 5, 0, [{ memberId: 'm-1', errorCode: 0 }])],
  [
    'OffsetCommitResponse v9',
    (w) => encodeOffsetCommitResponse(w, 9, [{ name: 'events', partitions: [{ index: 0, errorCode: 0 }] }]),
  ],
  ['InitProducerIdResponse v4', (w) => encodeInitProducerIdResponse(w, 4, 0, 1000n, 0)],
);
RESPONSES.push(
  [
    'ProduceResponse v11',
    (w) =>
      encodeProduceResponse(w, 11, [
        { name: 'events', partitions: [{ index: 0, errorCode: 0, baseOffset: 42, logStartOffset: 0 }] },
      ]),
  ],
  ['FetchResponse v12', (w) => encodeFetchResponse(w, 12, fetched(Buffer.from([1, 2, 3])))],
);

RESPONSES.push([
  'DeleteGroupsResponse v2',
  (w) =>
    encodeDeleteGroupsResponse(w, 2, [
      { groupId: 'g1', errorCode: 0 },
      { groupId: 'g2', errorCode: 69 },
    ]),
]);

describe('flexible versions against the bytes of Kafka 4.3.1 message classes', () => {
  it('decodes the requests Kafka clients send', () => {
    for (const [name, decode, want] of REQUESTS) {
      const r = reader(name);
      expect(decode(r), name).toEqual(want);
      expect(r.remaining(), `${name}: bytes left unread`).toBe(0);
    }
  });

  it('encodes responses byte for byte as Kafka does', () => {
    for (const [name, encode] of RESPONSES) expect(bytes(encode), name).toBe(GOLDEN[name]);
  });

  it('checks every golden vector', () => {
    const used = [...REQUESTS, ...RESPONSES].map(([name]) => name).sort();
    expect(used).toEqual(Object.keys(GOLDEN).sort());
  });

  it('sends a Fetch v12 answer’s records from a segment file with the compact length before them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'golden-fetch-'));
    const file = path.join(dir, 'segment');
    writeFileSync(file, Buffer.from([9, 9, 1, 2, 3, 9]));
    const fd = openSync(file, 'r');
    let released = 0;
    try {
      const range: FileRange = { fd, position: 2, length: 3, release: () => released++ };
      const w = new Writer();
      encodeFetchResponse(w, 12, fetched([range]));
      const parts = w
        .parts()
        .map((part) => (Buffer.isBuffer(part) ? part : readFileSync(file).subarray(2, 5)));
      expect(Buffer.concat(parts).toString('hex')).toBe(GOLDEN['FetchResponse v12']);
      expect(w.length).toBe(Buffer.concat(parts).length);
      expect(released).toBe(0); // the connection releases it once sent
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads and writes unsigned varints at the 7-bit boundaries and refuses ones past 32 bits', () => {
    for (const n of [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 0xffffffff]) {
      const hex = bytes((w) => w.uvarint(n));
      expect(new Reader(Buffer.from(hex, 'hex')).uvarint(), String(n)).toBe(n);
    }
    expect(bytes((w) => w.uvarint(300))).toBe('ac02');
    expect(() => new Reader(Buffer.from('ffffffffff01', 'hex')).uvarint()).toThrow(/32 bits/);
    expect(() => new Reader(Buffer.from('8080', 'hex')).uvarint()).toThrow(/read 1 bytes/);
  });

  it('refuses compact lengths and tagged fields that run past the frame', () => {
    expect(() => new Reader(Buffer.from('0561', 'hex')).string(true)).toThrow(/read 4 bytes/);
    expect(() => new Reader(Buffer.from('ff0f', 'hex')).array((r) => r.int8(), true)).toThrow(/array count/);
    expect(() => new Reader(Buffer.from('010005', 'hex')).tags(true)).toThrow(/read 5 bytes/);
    expect(new Reader(Buffer.from('00', 'hex')).nullableString(true)).toBeNull();
    const tagged = new Reader(Buffer.from('0201026162030100ff', 'hex'));
    tagged.tags(true); // two fields: tag 1 of 2 bytes, tag 3 of 1 byte
    expect(tagged.int8()).toBe(-1);
  });
});
