import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * DescribeConfigs v0-2.
 * Request: resources [resourceType int8 resourceName string configurationKeys nullable [string]]
 *   | v1+ includeSynonyms bool
 * Response: throttleTimeMs int32 | results [errorCode int16 errorMessage nullable string
 *   resourceType int8 resourceName string | configs [name string value nullable string
 *   readOnly bool | v0 isDefault bool | v1+ configSource int8 | isSensitive bool
 *   | v1+ synonyms [name string value nullable string source int8]]]
 * Resource type 2 is a topic, 4 a broker. Config source 1 is a topic override, 5 a default.
 */
export function decodeDescribeConfigsRequest(r: Reader, version: number) {
  const resources = r.array((r) => ({
    type: r.int8(),
    name: r.string(),
    keys: r.nullableArray((r) => r.string()),
  }));
  const includeSynonyms = version >= 1 ? r.bool() : false;
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
  w.int32(0);
  w.array(results, (w, res) => {
    w.int16(res.errorCode).nullableString(res.errorMessage).int8(res.type).string(res.name);
    w.array(res.configs, (w, c) => {
      w.string(c.name).nullableString(c.value).bool(c.readOnly);
      if (version === 0) w.bool(c.isDefault);
      else w.int8(c.isDefault ? 5 : 1);
      w.bool(false);
      if (version >= 1) w.int32(0);
    });
  });
}
