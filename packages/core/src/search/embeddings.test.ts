import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestCore } from '../test/core';
import { createEmbeddingsClient } from './embeddings';

/**
 * A fake OpenAI-compatible embeddings provider: each text becomes a vector of concept counts
 * [cats, dogs, cars, food, 0.01] from a fixed synonym table, so similar meanings get similar
 * vectors without sharing words. An input containing "FAIL" makes the whole request fail.
 */
const CONCEPTS: string[][] = [
  ['cat', 'cats', 'kitten', 'kittens', 'feline', 'tabby'],
  ['dog', 'dogs', 'puppy', 'canine', 'terrier'],
  ['car', 'cars', 'vehicle', 'engine', 'sedan'],
  ['food', 'pizza', 'dinner', 'pasta', 'supper'],
];
function fakeVector(text: string): number[] {
  const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
  return [...CONCEPTS.map((synonyms) => words.filter((w) => synonyms.includes(w)).length), 0.01];
}

const requests: { body: { input: string[]; model: string }; authorization?: string }[] = [];
const readBody = async (req: IncomingMessage) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  return JSON.parse(body) as { input: string[]; model: string };
};
const server = createServer(async (req, res) => {
  const body = await readBody(req);
  requests.push({ body, authorization: req.headers.authorization });
  if (body.input.some((text) => text.includes('FAIL'))) {
    res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}');
    return;
  }
  // Answer out of order: the client must use `index`.
  const data = body.input.map((text, index) => ({ object: 'embedding', index, embedding: fakeVector(text) })).reverse();
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model: body.model }));
});
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/embeddings`;
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

const logs: string[] = [];
// Retries as in production, with short delays: a failing provider is asked 5 times.
const core = useTestCore({
  embeddings: { url, model: 'fake-embedder', apiKey: 'sk-test', retryDelayMs: 5 },
  log: (message) => logs.push(message),
});

async function addAndEmbed(sessionId: string, contents: string[]) {
  const { messages } = await core().memory.add({ sessionId, messages: contents.map((content) => ({ role: 'user', content })) });
  await core().idle();
  return messages;
}

describe('memory search with an embeddings provider', () => {
  it('computes embeddings in the background after an add and stores them beside the messages', async () => {
    const messages = await addAndEmbed('pets', ['I adopted a kitten last week', 'We need a new sedan', 'Pizza for dinner tonight?']);
    const ids = (await core().collections.messages.find({ sessionId: 'pets' }).sort({ seq: 1 }).toArray()).map((d) => d._id);
    const stored = await Promise.all(ids.map((_id) => core().collections.search.findOne({ _id })));
    expect(stored.map((d) => d?.embedding)).toEqual([
      fakeVector(messages[0]!.content),
      fakeVector(messages[1]!.content),
      fakeVector(messages[2]!.content),
    ]);
    const request = requests.find((r) => r.body.input.includes('I adopted a kitten last week'))!;
    expect(request.body).toEqual({ input: messages.map((m) => m.content), model: 'fake-embedder' });
    expect(request.authorization).toBe('Bearer sk-test');
    // The API shape of a message does not grow an embedding.
    expect(await core().memory.message({ sessionId: 'pets', uuid: messages[0]!.uuid })).not.toHaveProperty('embedding');
  });

  it('ranks by meaning: a query sharing no word with the message still finds it first', async () => {
    const results = await core().memory.search({ sessionId: 'pets', text: 'feline' });
    expect(results[0]!.message.content).toBe('I adopted a kitten last week');
    expect(results[0]!.dist).toBeGreaterThan(0.4);
    for (const r of results) {
      expect(r.dist).toBeGreaterThanOrEqual(0);
      expect(r.dist).toBeLessThanOrEqual(1);
    }
    for (let i = 1; i < results.length; i++) expect(results[i - 1]!.dist).toBeGreaterThanOrEqual(results[i]!.dist);
    expect((await core().memory.search({ sessionId: 'pets', text: 'supper' }))[0]!.message.content).toBe('Pizza for dinner tonight?');
  });

  it('blends text and vector relevance: a word match breaks a tie of meaning', async () => {
    await addAndEmbed('blend', ['my tabby sleeps all day', 'the feline sleeps all day']);
    const results = await core().memory.search({ sessionId: 'blend', text: 'tabby' });
    expect(results.map((r) => r.message.content)).toEqual(['my tabby sleeps all day', 'the feline sleeps all day']);
    expect(results[0]!.dist).toBeGreaterThan(results[1]!.dist);
  });

  it('MMR diversifies: picks a different message over a near-duplicate', async () => {
    await addAndEmbed('mmr', ['my cat naps', 'my cat naps again', 'our terrier barks', 'the sedan needs an engine']);
    const similarity = await core().memory.search({ sessionId: 'mmr', text: 'kitten feline puppy', limit: 2 });
    expect(similarity.map((r) => r.message.content).sort()).toEqual(['my cat naps', 'my cat naps again']);
    expect(similarity.every((r) => r.embedding === undefined)).toBe(true);

    const mmr = await core().memory.search({ sessionId: 'mmr', text: 'kitten feline puppy', limit: 2, searchType: 'mmr' });
    expect(mmr).toHaveLength(2);
    expect(['my cat naps', 'my cat naps again']).toContain(mmr[0]!.message.content);
    expect(mmr[1]!.message.content).toBe('our terrier barks');
    expect(mmr[1]!.embedding).toEqual(fakeVector('our terrier barks'));

    // λ = 1 is pure relevance: the near-duplicate comes back.
    const relevanceOnly = await core().memory.search({
      sessionId: 'mmr',
      text: 'kitten feline puppy',
      limit: 2,
      searchType: 'mmr',
      mmrLambda: 1,
    });
    expect(relevanceOnly.map((r) => r.message.content).sort()).toEqual(['my cat naps', 'my cat naps again']);
  });

  it('blends meaning across a user’s sessions too (user search)', async () => {
    await core().users.add({ userId: 'owner' });
    for (const sessionId of ['owner-a', 'owner-b']) await core().sessions.add({ sessionId, userId: 'owner' });
    await addAndEmbed('owner-a', ['our terrier barks at night']);
    await addAndEmbed('owner-b', ['the kitten chased a tabby', 'a new sedan']);
    const results = await core().memory.searchUser({ userId: 'owner', text: 'feline', searchType: 'mmr', limit: 2 });
    expect(results.map((r) => [r.message.sessionId, r.message.content])[0]).toEqual(['owner-b', 'the kitten chased a tabby']);
    expect(results[0]!.embedding).toEqual(fakeVector('the kitten chased a tabby'));
    expect(results.every((r) => r.message.sessionId.startsWith('owner-'))).toBe(true);
  });

  it('never fails an add when the provider fails; the message is still found by text', async () => {
    const before = logs.length;
    const [message] = await addAndEmbed('failing', ['FAIL: the provider rejects this kitten']);
    expect(logs.slice(before).join('\n')).toMatch(/embedding 1 messages of session "failing" failed/);
    const { _id } = (await core().collections.messages.findOne({ uuid: message!.uuid }))!;
    expect(await core().collections.search.findOne({ _id })).not.toHaveProperty('embedding');
    // The query itself cannot be embedded either ("FAIL"): search falls back to text.
    const results = await core().memory.search({ sessionId: 'failing', text: 'kitten FAIL' });
    expect(results.map((r) => r.message.uuid)).toEqual([message!.uuid]);
  });
});

describe('the embeddings client against a provider that fails for a while', () => {
  /** A provider answering each request with the next of `script` (a status and headers), then 200 for good. */
  async function provider(script: { status: number; headers?: Record<string, string> }[]) {
    const seen: number[] = [];
    const flaky = createServer(async (req, res) => {
      const { input } = await readBody(req);
      const next = script.shift();
      seen.push(Date.now());
      if (next) res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers }).end('{"error":"not now"}');
      else
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ data: input.map((t) => ({ embedding: fakeVector(t) })) }));
    });
    await new Promise<void>((ok) => flaky.listen(0, '127.0.0.1', ok));
    const close = () => new Promise<void>((ok) => flaky.close(() => ok()));
    return { url: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/v1/embeddings`, seen, close };
  }

  it('retries 429 after the Retry-After the provider sends, and 5xx with backoff, then succeeds', async () => {
    const p = await provider([{ status: 429, headers: { 'retry-after': '1' } }, { status: 503 }, { status: 502 }]);
    try {
      const client = createEmbeddingsClient({ url: p.url, retryDelayMs: 10 });
      expect(await client.embed(['a kitten'])).toEqual([fakeVector('a kitten')]);
      expect(p.seen).toHaveLength(4);
      expect(p.seen[1]! - p.seen[0]!).toBeGreaterThanOrEqual(900); // waited for Retry-After: 1 (s)
    } finally {
      await p.close();
    }
  });

  it('gives up after its retries with the last answer, and never retries a refusal such as 401', async () => {
    const failing = await provider(Array.from({ length: 10 }, () => ({ status: 500 })));
    const refusing = await provider([{ status: 401 }]);
    try {
      await expect(createEmbeddingsClient({ url: failing.url, retries: 2, retryDelayMs: 5 }).embed(['x'])).rejects.toThrow(
        /embeddings provider answered 500: \{"error":"not now"\}/,
      );
      expect(failing.seen).toHaveLength(3);
      await expect(createEmbeddingsClient({ url: refusing.url, retryDelayMs: 5 }).embed(['x'])).rejects.toThrow(/answered 401/);
      expect(refusing.seen).toHaveLength(1);
    } finally {
      await failing.close();
      await refusing.close();
    }
  });

  it('says so when the provider cannot be reached at all', async () => {
    const gone = await provider([]);
    await gone.close();
    await expect(createEmbeddingsClient({ url: gone.url, retries: 1, retryDelayMs: 5 }).embed(['x'])).rejects.toThrow(
      /embeddings provider unreachable/,
    );
  });
});
