import { Tiktoken } from 'js-tiktoken/lite';
import cl100k_base from 'js-tiktoken/ranks/cl100k_base';

let encoder: Tiktoken | undefined;

/** Tokens of a message as Zep counts them: `"<role>: <content>"` in OpenAI's cl100k_base encoding. */
export function countMessageTokens(role: string, content: string): number {
  encoder ??= new Tiktoken(cl100k_base);
  return encoder.encode(`${role}: ${content}`).length;
}
