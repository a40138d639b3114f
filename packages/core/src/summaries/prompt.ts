/**
 * The summarizer's prompt, in one place. Progressive, as Zep's: the model gets the current summary
 * (empty at first) and the next lines of the conversation, and answers the new summary that covers
 * both. Its wording follows the intent of Zep v0.27's summarizer prompt (extend the current summary
 * with the new lines; keep it concise; leave the summary as it is when the lines add nothing).
 */
import type { ChatMessage } from './llm';

export const SUMMARY_SYSTEM_PROMPT = [
  'You keep a running summary of a conversation between a user and an AI assistant.',
  'You are given the current summary (it may be empty) and the new lines of the conversation that follow it.',
  'Write one concise summary, in the third person and in the past tense, that extends the current summary with what the new lines add:',
  'facts about the user, their goals and preferences, decisions and open questions.',
  'Keep what the current summary says unless the new lines correct it. If the new lines add nothing, repeat the current summary.',
  'Answer with the summary alone: no preamble, no headings, no quotes around it.',
].join('\n');

/** One line of the conversation as the model reads it (and as its tokens are counted: Zep's `role: content`). */
export const transcriptLine = (role: string, content: string) => `${role}: ${content}`;

/** The request for one step: the current summary and the lines that follow it. */
export function summaryPrompt(currentSummary: string, lines: string[]): ChatMessage[] {
  return [
    { role: 'system', content: SUMMARY_SYSTEM_PROMPT },
    {
      role: 'user',
      content: `<current_summary>\n${currentSummary}\n</current_summary>\n\n<new_lines>\n${lines.join('\n')}\n</new_lines>`,
    },
  ];
}

/** Tokens the prompt itself takes besides the summary and the lines (counted once; cl100k_base). */
export const PROMPT_OVERHEAD_TOKENS = 160;
