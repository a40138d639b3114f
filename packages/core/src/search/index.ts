/** Memory search (issue 5). See search.ts for the design, the indexes and how cost grows. */
export { bm25, createSearchService, maximalMarginalRelevance, type SearchService } from './search';
export { cosine, createEmbeddingsClient, type EmbeddingsConfig, EmbeddingsError } from './embeddings';
export { isEmptyFilter, METADATA_FILTER_OPERATORS, type MetadataFilter, metadataFilterProblem } from './filter';
export { MAX_TERM_LENGTH, tokenize } from './tokenize';
export { porterStem } from './stem';
