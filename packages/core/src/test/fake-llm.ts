import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake model answers the next requests (tests set it; `times` requests, then back to `ok`). */
export type FakeLlmFailure = '500' | '429' | 'hang' | 'malformed';

export interface FakeLlmRequest {
  model: string;
  messages: { role: string; content: string }[];
  max_tokens?: number;
  authorization?: string;
  /** The current summary and new lines the request carried (parsed from the prompt). */
  currentSummary: string;
  lines: string[];
}

/**
 * The summary the fake model answers: deterministic and progressive, the current summary followed by
 * each new line in brackets, so a test can tell exactly what each step was given.
 */
export function fakeSummary(currentSummary: string, lines: string[]): string {
  return [currentSummary, ...lines.map((line) => `[${line}]`)].filter((part) => part !== '').join(' ');
}

const between = (text: string, tag: string) => text.match(new RegExp(`<${tag}>\\n([\\s\\S]*?)\\n?</${tag}>`))?.[1] ?? '';

/**
 * A fake OpenAI-compatible chat-completions server on 127.0.0.1, for tests and benchmarks: it answers
 * `answer` (default `fakeSummary`) of the prompt after `delayMs`, or fails as told (`fail`): 500, 429 with
 * `Retry-After: 1`, a hang (never answers until closed), or a body that is not JSON.
 */
export async function startFakeLlm({
  delayMs = 0,
  answer = fakeSummary,
}: {
  delayMs?: number;
  answer?: (currentSummary: string, lines: string[]) => string;
} = {}) {
  const requests: FakeLlmRequest[] = [];
  const failures: FakeLlmFailure[] = [];
  const hanging = new Set<ServerResponse>();
  const readBody = async (req: IncomingMessage) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    return JSON.parse(body) as Omit<FakeLlmRequest, 'currentSummary' | 'lines'>;
  };
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const prompt = body.messages.at(-1)?.content ?? '';
    const lines = between(prompt, 'new_lines')
      .split('\n')
      .filter((l) => l !== '');
    const currentSummary = between(prompt, 'current_summary');
    requests.push({ ...body, authorization: req.headers.authorization, currentSummary, lines });
    const failure = failures.shift();
    if (failure === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (delayMs > 0) await new Promise((ok) => setTimeout(ok, delayMs));
    if (failure === '500') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}');
    if (failure === '429')
      return void res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"error":"slow down"}');
    if (failure === 'malformed') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [');
    const content = answer(currentSummary, lines);
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id: `chatcmpl-${requests.length}`,
        object: 'chat.completion',
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      }),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  return {
    url,
    requests,
    /** The next `times` requests fail this way. */
    fail(failure: FakeLlmFailure, times = 1) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    /** Ends the requests left hanging (their clients see the connection close). */
    releaseHanging() {
      for (const res of hanging) res.destroy();
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export type FakeLlm = Awaited<ReturnType<typeof startFakeLlm>>;
