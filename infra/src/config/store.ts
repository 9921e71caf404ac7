import { type ObjectStore, objectStoreFromUrl, type S3Settings } from '@promstream/storage';
import { objectStoreUrl, type PromstreamConfig } from './config.js';

/**
 * The `s3` section as the store factory takes it: the credentials are passed
 * explicitly; with none configured the AWS SDK's default chain looks for them.
 */
export function s3Settings(config: PromstreamConfig): S3Settings {
  return { ...config.s3 };
}

/** Opens the store a config names (or another URL), with the config's S3 settings. */
export function openStore(config: PromstreamConfig, url: string = objectStoreUrl(config)): ObjectStore {
  return objectStoreFromUrl(url, s3Settings(config));
}
