/**
 * A long conversation of mixed Markdown, deterministic: paragraphs with emphasis, code spans, links
 * and strikethrough, lists and task lists, tables, fenced code in a few languages. Message `n`
 * (1-based) starts with "Message n." so tests can tell which one is on screen. Shared by the
 * conversation benchmark (bench/conversation.ts) and the browser test (e2e/conversation.test.ts).
 */

const WORDS = (
  'the a to and of in is it for with my your we this that can about please also just need want think know ' +
  'remember check send call book change cancel help find flight hotel ticket invoice refund recipe dinner workout ' +
  'server database error deploy garden seed guitar song budget loan doctor movie today tomorrow week idea answer'
).split(' ');

function words(n: number, count: number): string {
  let seed = n * 7919 + count;
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), seed >>> 8);
  return Array.from({ length: count }, () => WORDS[next() % WORDS.length]!).join(' ');
}

const TS = (n: number) => `\`\`\`ts
export async function load${n}(id: string): Promise<number> {
  const reply = await fetch(\`/api/items/\${id}\`); // message ${n}
  if (!reply.ok) throw new Error('not found');
  return (await reply.json()).count ?? ${n};
}
\`\`\``;

const PY = (n: number) => `\`\`\`python
def total_${n}(rows):
    """Sums the amounts (message ${n})."""
    return sum(row["amount"] for row in rows if row.get("paid"))
\`\`\``;

const BASH = (n: number) => `\`\`\`bash
pnpm install && pnpm test --filter web # ${n}
\`\`\``;

/** The text of message `n`. */
export function mixedContent(n: number): string {
  const head = `Message ${n}.`;
  switch (n % 10) {
    case 0:
      return `${head} Here is the function:\n\n${TS(n)}\n\nIt returns the **count** or \`${n}\`.`;
    case 3:
      return `${head} The numbers:\n\n| item | amount | paid |\n| --- | ---: | :---: |\n| tea | ${n % 97} | yes |\n| cake | ${(n * 3) % 89} | no |\n| ${words(n, 2)} | 1 | yes |`;
    case 5:
      return `${head} To do:\n\n- [x] ${words(n, 4)}\n- [ ] ${words(n + 1, 5)}\n- see [the docs](https://example.com/docs/${n})\n\n1. first ${words(n, 3)}\n2. then ~~${words(n, 2)}~~ ${words(n + 2, 2)}`;
    case 7:
      return `${head} In Python:\n\n${PY(n)}\n\n> ${words(n, 12)}`;
    case 8:
      return `${head} ${words(n, 40)}.\n\n${words(n + 1, 30)}, then run:\n\n${BASH(n)}`;
    default:
      return `${head} ${words(n, 8 + (n % 25))} **${words(n, 2)}** and \`${words(n, 1)}\`${n % 4 === 1 ? ` ([link](https://example.com/${n}))` : ''}.`;
  }
}

/** Message `n`: user and assistant taking turns. */
export function mixedMessage(n: number): { role: string; content: string } {
  return { role: n % 2 === 1 ? 'user' : 'assistant', content: mixedContent(n) };
}
