/** POST /api/v1/users/{id}/search: a Mnemo route (Zep has none) over the user.search procedure. */
import { describe, expect, it } from 'vitest';
import { httpClient } from '../test/http';
import { useTestServer } from '../testing';

const server = useTestServer();
const api = (method: string, path: string, body?: unknown) => httpClient(server().url)(method, `/api/v1${path}`, body);

interface Result {
  session_id: string;
  message: { content: string };
}
const found = (results: Result[]) => results.map((r) => [r.session_id, r.message.content]);

describe('POST /users/{id}/search', () => {
  it('searches all of the user’s sessions with Zep’s payload, naming each result’s session', async () => {
    expect((await api('POST', '/user', { user_id: 'ada' })).status).toBe(201);
    expect((await api('POST', '/user', { user_id: 'bob' })).status).toBe(201);
    for (const [session_id, user_id] of [
      ['ada-trip', 'ada'],
      ['ada-pets', 'ada'],
      ['bob-trip', 'bob'],
    ]) {
      expect((await api('POST', '/sessions', { session_id, user_id })).status).toBe(201);
    }
    const add = (sessionId: string, messages: unknown[]) => api('POST', `/sessions/${sessionId}/memory`, { messages });
    await add('ada-trip', [
      { role: 'user', content: 'Book a flight to Lisbon next week.', metadata: { topic: 'travel' }, created_at: '2024-05-01T10:00:00Z' },
      { role: 'user', content: 'A hotel in Lisbon by the river.', metadata: { topic: 'hotel' }, created_at: '2024-05-03T10:00:00Z' },
    ]);
    await add('ada-pets', [
      {
        role: 'user',
        content: 'My cat Miso needs a sitter while I am in Lisbon.',
        metadata: { topic: 'pets' },
        created_at: '2024-05-02T10:00:00Z',
      },
    ]);
    await add('bob-trip', [{ role: 'user', content: 'Bob flies to Lisbon too.', metadata: { topic: 'travel' } }]);

    const lisbon = await api('POST', '/users/ada/search', { text: 'Lisbon' });
    expect(lisbon.status).toBe(200);
    expect(new Set(found(lisbon.json).map(([sessionId]) => sessionId))).toEqual(new Set(['ada-trip', 'ada-pets']));
    expect(lisbon.json).toHaveLength(3);
    expect(lisbon.json[0]).toEqual({
      message: expect.objectContaining({ role: 'user', content: expect.stringContaining('Lisbon'), token_count: expect.any(Number) }),
      metadata: expect.any(Object),
      dist: expect.any(Number),
      embedding: null,
      session_id: expect.stringMatching(/^ada-/),
    });

    const cat = await api('POST', '/users/ada/search?limit=1', { text: 'cat sitter Lisbon', search_type: 'mmr', mmr_lambda: 0.5 });
    expect(found(cat.json)).toEqual([['ada-pets', 'My cat Miso needs a sitter while I am in Lisbon.']]);

    // Without text, newest first across sessions; dates ride in metadata, as in Zep.
    const newest = await api('POST', '/users/ada/search', { metadata: { start_date: '2024-05-02T00:00:00Z' } });
    expect(found(newest.json)).toEqual([
      ['ada-trip', 'A hotel in Lisbon by the river.'],
      ['ada-pets', 'My cat Miso needs a sitter while I am in Lisbon.'],
    ]);
    const travel = await api('POST', '/users/ada/search', { text: 'Lisbon', metadata: { 'metadata.topic': 'travel' } });
    expect(found(travel.json)).toEqual([['ada-trip', 'Book a flight to Lisbon next week.']]);
  });

  it('answers bad searches and unknown users with 4xx JSON errors', async () => {
    await api('POST', '/user', { user_id: 'known' });
    const cases: [string, unknown, number, RegExp][] = [
      ['/users/known/search', {}, 400, /empty query/],
      ['/users/known/search', { metadata: { where: { jsonpath: '$.a' } } }, 400, /JSONPath/],
      ['/users/known/search', { text: 'x', search_scope: 'summary' }, 400, /summar/],
      ['/users/known/search', { text: 'x', metadata: { owner: 'x' } }, 400, /metadata/],
      ['/users/known/search?limit=101', { text: 'x' }, 400, /limit/],
      ['/users/known/search', { text: 7 }, 400, /text/],
      ['/users/unknown/search', { text: 'x' }, 404, /user "unknown" not found/],
    ];
    for (const [path, body, status, message] of cases) {
      const reply = await api('POST', path, body);
      expect([path, JSON.stringify(body), reply.status]).toEqual([path, JSON.stringify(body), status]);
      expect(reply.json.message).toMatch(message);
    }
    expect((await api('POST', '/users/known/search', { text: 'x' })).json).toEqual([]);
    expect((await api('GET', '/users/known/search')).status).toBe(405);
  });
});
