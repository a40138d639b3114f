/**
 * What the consumer test runs is read from the documentation itself, so the two cannot drift: a section of a
 * Markdown file, its fenced code blocks, and the shell commands of a block.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../../..');

export interface CodeBlock {
  lang: string;
  code: string;
}

/** The text under `heading` (a line `## Heading`, any level), up to the next heading of that level or higher. */
export function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => /^#+ /.test(line) && line.replace(/^#+ /, '') === heading);
  if (start < 0) throw new Error(`no heading "${heading}"`);
  const level = /^#+/.exec(lines[start]!)![0].length;
  let inCode = false;
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('```')) inCode = !inCode;
    if (!inCode && /^#+ /.test(line) && /^#+/.exec(line)![0].length <= level) break;
    body.push(line);
  }
  return body.join('\n');
}

/** The fenced code blocks of `markdown`, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

/** The commands of a shell block: one per line, without the comments at their ends. */
export function commands(block: CodeBlock): string[] {
  if (block.lang !== 'sh') throw new Error(`not a shell block: ${block.lang}`);
  return block.code
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line && !line.startsWith('#'));
}

/** The blocks of one language in `heading`'s section of a file of the repository. */
export function blocksOf(file: string, heading: string, lang?: string): CodeBlock[] {
  const blocks = codeBlocks(section(readFileSync(join(ROOT, file), 'utf8'), heading));
  return lang ? blocks.filter((b) => b.lang === lang) : blocks;
}

/** The block whose first line names `path` (`// lib/chat.ts: …`, as the docs label the files of a recipe). */
export function fileBlock(blocks: CodeBlock[], path: string): CodeBlock {
  const block = blocks.find((b) => b.code.startsWith(`// ${path}`));
  if (!block) throw new Error(`no block for ${path}`);
  return block;
}
