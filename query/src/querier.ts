/**
 * The query tier's read seam. It is declared once, in the storage package's
 * data model (`Querier`, `Series`, `SelectHints`, and the iterator's bulk
 * copy): this module names it for the query tier's own files.
 */
export type { Querier, SelectHints, Series, SeriesChunk } from '@promstream/storage';
