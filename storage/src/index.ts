/** The storage package: TSZ codec, blocks, object stores. */
export const STORAGE_PACKAGE = '@promstream/storage';
