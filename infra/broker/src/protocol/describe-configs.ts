import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * DescribeConfigs v0-4 (v4 flexible).
 * Request: resources [resourceType int8 resourceName string configurationKeys nullable [string]]
 *   | v1+ includeSynonyms bool | v3+ includeDocumentation bool
 * Response: throttleTimeMs int32 | results [errorCode int16 errorMessage nullable string
 *   resourceType int8 resourceName string | configs [name string value nullable string
 *   readOnly bool | v0 isDefault bool | v1+ configSource int8 | isSensitive bool
 *   | v1+ synonyms [name string value nullable string source int8]
 *   | v3+ configType int8 documentation nullable string]]
 * Flexible versions end every structure in tagged fields.
 * Resource type 2 is a topic, 4 a broker. Config source 1 is a topic override, 5 a default.
 * No synonyms and no documentation are sent; config type 0 is Kafka's UNKNOWN.
 */
export function decodeDescribeConfigsRequest(r: Reader, version: number) {
  const flex = version >= 4;
  const resources = r.array((r) => {
    const type = r.int8();
    const name = r.string(flex);
    const keys = r.nullableArray((r) => r.string(flex), flex);
    r.tags(flex);
    return { type, name, keys };
  }, flex);
  const includeSynonyms = version >= 1 ? r.bool() : false;
  if (version >= 3) r.bool();
  r.tags(flex);
  return { resources, includeSynonyms };
}

export interface DescribedResource {
  errorCode: number;
  errorMessage: string | null;
  type: number;
  name: string;
  configs: Array<{ name: string; value: string; readOnly: boolean; isDefault: boolean }>;
}

export function encodeDescribeConfigsResponse(
  w: Writer,
  version: number,
  results: DescribedResource[],
): void {
  const flex = version >= 4;
  w.int32(0);
  w.array(
    results,
    (w, res) => {
      w.int16(res.errorCode).nullableString(res.errorMessage, flex).int8(res.type).string(res.name, flex);
      w.array(
        res.configs,
        (w, c) => {
          w.string(c.name, flex).nullableString(c.value, flex).bool(c.readOnly);
          if (version === 0) w.bool(c.isDefault);
          else w.int8(c.isDefault ? 5 : 1);
          w.bool(false);
          if (version >= 1) w.array([], () => {}, flex);
          if (version >= 3) w.int8(0).nullableString(null, flex);
          w.tags(flex);
        },
        flex,
      );
      w.tags(flex);
    },
    flex,
  );
  w.tags(flex);
}
