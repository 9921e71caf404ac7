/**
 * The broker's errors. Two kinds: BrokerError for the broker's own failures
 * (stable string codes, as every package has), and the numeric Kafka error
 * codes that go back to clients inside responses.
 */

/** Stable codes of the broker's own errors. */
export const BROKER_ERROR_CODES = [
  'MALFORMED_REQUEST',
  'REQUEST_TOO_LARGE',
  'UNSUPPORTED_API',
  'CORRUPT_SEGMENT',
  'STORAGE_IO',
  'BAD_CONFIG',
] as const;

export type BrokerErrorCode = (typeof BROKER_ERROR_CODES)[number];

const RETRIABLE: ReadonlySet<BrokerErrorCode> = new Set(['STORAGE_IO']);

/** An error of the broker itself, with a stable code and whether a retry can help. */
export class BrokerError extends Error {
  readonly retriable: boolean;

  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BrokerError';
    this.retriable = RETRIABLE.has(code);
  }
}

/** Kafka protocol error codes the broker answers with (from the Kafka protocol guide). */
export const KafkaCode = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REQUEST: 42,
  POLICY_VIOLATION: 44,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_CONFIG: 40,
  INVALID_TIMESTAMP: 32,
  KAFKA_STORAGE_ERROR: 56,
  UNKNOWN_PRODUCER_ID: 59,
  GROUP_ID_NOT_FOUND: 69,
  NON_EMPTY_GROUP: 68,
  UNKNOWN_TOPIC_ID: 100,
  INVALID_RECORD: 87,
  UNKNOWN_SERVER_ERROR: -1,
} as const;

export type KafkaErrorCode = (typeof KafkaCode)[keyof typeof KafkaCode];
