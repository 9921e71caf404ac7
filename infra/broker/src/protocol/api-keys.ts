/** Kafka API keys the broker serves, with the version ranges it advertises in ApiVersions. */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  DeleteRecords: 21,
  InitProducerId: 22,
  DescribeConfigs: 32,
  CreatePartitions: 37,
  DeleteGroups: 42,
} as const;

/**
 * Supported versions, and the first flexible version of each API (KIP-482:
 * request header v2, response header v1, compact strings and arrays, tagged
 * fields), or none. Produce starts at 0 because librdkafka only enables
 * compression when Produce v0 is advertised. The ranges reach the versions
 * Apache Kafka 4.3's own tools negotiate for the APIs they call
 * (kafka-topics, the console producer and consumer, kafka-consumer-groups).
 */
export const SUPPORTED_VERSIONS: ReadonlyArray<{
  apiKey: number;
  min: number;
  max: number;
  flexibleFrom?: number;
}> = [
  { apiKey: ApiKey.Produce, min: 0, max: 11, flexibleFrom: 9 },
  { apiKey: ApiKey.Fetch, min: 0, max: 12, flexibleFrom: 12 },
  { apiKey: ApiKey.ListOffsets, min: 0, max: 6, flexibleFrom: 6 },
  { apiKey: ApiKey.Metadata, min: 0, max: 13, flexibleFrom: 9 },
  { apiKey: ApiKey.OffsetCommit, min: 2, max: 9, flexibleFrom: 8 },
  { apiKey: ApiKey.OffsetFetch, min: 1, max: 8, flexibleFrom: 6 },
  { apiKey: ApiKey.FindCoordinator, min: 0, max: 4, flexibleFrom: 3 },
  { apiKey: ApiKey.JoinGroup, min: 0, max: 9, flexibleFrom: 6 },
  { apiKey: ApiKey.Heartbeat, min: 0, max: 4, flexibleFrom: 4 },
  { apiKey: ApiKey.LeaveGroup, min: 0, max: 5, flexibleFrom: 4 },
  { apiKey: ApiKey.SyncGroup, min: 0, max: 5, flexibleFrom: 4 },
  { apiKey: ApiKey.DescribeGroups, min: 0, max: 5, flexibleFrom: 5 },
  { apiKey: ApiKey.ListGroups, min: 0, max: 5, flexibleFrom: 3 },
  { apiKey: ApiKey.ApiVersions, min: 0, max: 4, flexibleFrom: 3 },
  { apiKey: ApiKey.CreateTopics, min: 2, max: 7, flexibleFrom: 5 },
  { apiKey: ApiKey.DeleteTopics, min: 0, max: 1 },
  { apiKey: ApiKey.DeleteRecords, min: 0, max: 1 },
  { apiKey: ApiKey.InitProducerId, min: 0, max: 4, flexibleFrom: 2 },
  { apiKey: ApiKey.DescribeConfigs, min: 0, max: 4, flexibleFrom: 4 },
  { apiKey: ApiKey.CreatePartitions, min: 0, max: 1 },
  { apiKey: ApiKey.DeleteGroups, min: 0, max: 2, flexibleFrom: 2 },
];

const BY_KEY = new Map(SUPPORTED_VERSIONS.map((v) => [v.apiKey, v]));

/** True when the broker serves this API at this version. */
export function supports(apiKey: number, version: number): boolean {
  const v = BY_KEY.get(apiKey);
  return v !== undefined && version >= v.min && version <= v.max;
}

/** True when this version of the API is flexible (compact encodings and tagged fields). */
export function isFlexible(apiKey: number, version: number): boolean {
  const from = BY_KEY.get(apiKey)?.flexibleFrom;
  return from !== undefined && version >= from;
}

/**
 * True when the response header has tagged fields (v1): every flexible
 * version except ApiVersions, whose response header stays v0 so that a
 * client can read it before it knows the versions (see api-versions.ts).
 */
export function hasResponseTags(apiKey: number, version: number): boolean {
  return apiKey !== ApiKey.ApiVersions && isFlexible(apiKey, version);
}

/** The highest ApiVersions version served; a newer request gets UNSUPPORTED_VERSION in the v0 format. */
export const API_VERSIONS_MAX = 4;
