/** Progressive session summaries from an OpenAI-compatible chat model: see summaries.ts for the rule and the jobs. */
export { createSummaries, piecesOf, type Summaries, type SummariesConfig, toSummary } from './summaries';
export { createLlmClient, type LlmConfig, LlmError } from './llm';
export { SUMMARY_SYSTEM_PROMPT, summaryPrompt } from './prompt';
