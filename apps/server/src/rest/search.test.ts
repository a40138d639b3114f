/** POST /api/v1/sessions/{id}/search: Zep's search route over the memory.search procedure. */
import { describe, expect, it } from 'vitest';
import { httpClient } from '../test/http';
import { useTestServer } from '../testing';

const server = useTestServer();
const api = (method: string, path: string, body?: unknown) => httpClient(server().url)(method, `/api/v1${path}`, body);

const conversation = [
  { role: 'user', content: 'I would like to book a flight to Lisbon next week.', metadata: { topic: 'travel' } },
  { role: 'assistant', content: 'Sure. Which day do you want to fly?', metadata: { topic: 'travel' } },
  { role: 'user', content: 'My cat Miso needs a sitter while I am away.', metadata: { topic: 'pets' } },
  { role: 'assistant', content: 'I can recommend pet sitters near you.', metadata: { topic: 'pets' } },
];

describe('POST /sessions/{id}/search', () => {
  it('ranks by text, filters by metadata, honours limit, and returns Zep result shapes', async () => {
    expect((await api('POST', '/sessions/trip/memory', { messages: conversation })).status).toBe(200);

    const flights = await api('POST', '/sessions/trip/search', { text: 'Flights to LISBON?' });
    expect(flights.status).toBe(200);
    expect(flights.json[0]).toEqual({
      message: expect.objectContaining({ role: 'user', content: conversation[0]!.content, metadata: { topic: 'travel' } }),
      metadata: { topic: 'travel' },
      dist: expect.any(Number),
      embedding: null,
    });
    expect(flights.json[0].dist).toBeGreaterThan(0);

    const pets = await api('POST', '/sessions/trip/search?limit=1', { text: 'cat sitter', metadata: { 'metadata.topic': 'pets' } });
    expect(pets.json.map((r: { message: { content: string } }) => r.message.content)).toEqual([conversation[2]!.content]);

    const newestPets = await api('POST', '/sessions/trip/search', { metadata: { 'metadata.topic': 'pets' } });
    expect(newestPets.json.map((r: { message: { content: string } }) => r.message.content)).toEqual([
      conversation[3]!.content,
      conversation[2]!.content,
    ]);

    const future = await api('POST', '/sessions/trip/search', { text: 'flight', metadata: { start_date: '2999-01-01T00:00:00Z' } });
    expect(future.json).toEqual([]);
  });

  it('answers bad searches with 4xx JSON errors', async () => {
    await api('POST', '/sessions/known/memory', { messages: conversation });
    const cases: [string, unknown, number, RegExp][] = [
      ['/sessions/known/search', {}, 400, /empty query/],
      ['/sessions/known/search', { metadata: { where: { jsonpath: '$.a' } } }, 400, /JSONPath/],
      ['/sessions/known/search', { text: 'x', search_scope: 'summary', metadata: { 'metadata.a': 1 } }, 400, /text alone/],
      ['/sessions/known/search', { search_scope: 'summary', metadata: { start_date: '2024-01-01T00:00:00Z' } }, 400, /text alone/],
      ['/sessions/known/search', { text: 'x', metadata: { owner: 'x' } }, 400, /metadata/],
      ['/sessions/known/search', { text: 'x', metadata: { 'metadata.a': { $where: '1' } } }, 400, /\$where/],
      ['/sessions/known/search', { metadata: { 'metadata.a ': 1 } }, 400, /"a " must not start or end with whitespace/],
      ['/sessions/known/search', { metadata: { 'metadata.  a': 1 } }, 400, /"  a" must not start or end with whitespace/],
      ['/sessions/known/search', { text: 'x', metadata: { $or: [{ 'metadata.topic\u00a0': 'pets' }] } }, 400, /whitespace/],
      ['/sessions/known/search?limit=101', { text: 'x' }, 400, /limit/],
      ['/sessions/unknown/search', { text: 'x' }, 404, /not found/],
    ];
    for (const [path, body, status, message] of cases) {
      const reply = await api('POST', path, body);
      expect([path, JSON.stringify(body), reply.status]).toEqual([path, JSON.stringify(body), status]);
      expect(reply.json.message).toMatch(message);
    }
  });

  it('filters on a metadata key with a space inside it (only padding is refused)', async () => {
    await api('POST', '/sessions/spaced/memory', {
      messages: [
        { role: 'user', content: 'Miso is asleep.', metadata: { 'pet name': 'Miso' } },
        { role: 'user', content: 'Rex is awake.', metadata: { 'pet name': 'Rex' } },
      ],
    });
    const reply = await api('POST', '/sessions/spaced/search', { metadata: { 'metadata.pet name': 'Miso' } });
    expect(reply.status).toBe(200);
    expect(reply.json.map((r: { message: { content: string } }) => r.message.content)).toEqual(['Miso is asleep.']);
  });
});
