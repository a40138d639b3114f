/**
 * The recipe of docs/openai-conversations.md (responses.example.ts, shown there as it is) against a real
 * Mnemo server, with a mock model: an OpenAI client whose fetch answers the Responses API locally (no
 * network). The model sees the stored conversation as its input, and its output items come back
 * from Mnemo as they were.
 */
import { readFile } from 'node:fs/promises';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../testing';
import { turn } from './responses.example';

const server = useTestServer();

type Item = Record<string, unknown> & { type?: string };

/**
 * A model that calls `weather` when the last item is the user's question, and answers with the tool's
 * output once it is there. It records each request's input.
 */
function mockModel() {
  const inputs: Item[][] = [];
  const respond = (input: Item[]) => {
    const last = input.at(-1)!;
    if (last.type === 'function_call_output') {
      const { celsius } = JSON.parse(last.output as string) as { celsius: number };
      return [
        {
          type: 'message',
          id: `msg_answer_${inputs.length}`,
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: `It is ${celsius} °C in Paris.`, annotations: [] }],
        },
      ];
    }
    return [
      { type: 'reasoning', id: `rs_${inputs.length}`, summary: [], encrypted_content: 'opaque-reasoning-state' },
      {
        type: 'function_call',
        id: `fc_${inputs.length}`,
        call_id: 'call_weather',
        name: 'weather',
        arguments: '{"city":"Paris"}',
        status: 'completed',
      },
    ];
  };
  const model = new OpenAI({
    apiKey: 'mock',
    baseURL: 'http://model.invalid/v1',
    fetch: async (url, init) => {
      expect(String(url)).toBe('http://model.invalid/v1/responses');
      const { input } = JSON.parse(String(init?.body)) as { input: Item[] };
      inputs.push(input);
      const output = respond(input);
      const body = { id: `resp_${inputs.length}`, object: 'response', created_at: 0, model: 'mock', status: 'completed', output };
      return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    },
  });
  return { model, inputs };
}

describe('the Responses API recipe, with Mnemo as the conversation store', () => {
  it('runs a tool-calling turn: the model reads the stored items and its output items are stored verbatim', async () => {
    const mnemo = new OpenAI({ apiKey: 'no auth secret here', baseURL: `${server().url}/v1` });
    const { model, inputs } = mockModel();
    const cities: unknown[] = [];
    const tools = { weather: async (args: unknown) => (cities.push(args), { celsius: 21 }) };
    const { id } = await mnemo.conversations.create({ metadata: { app: 'recipe' } });

    expect(await turn({ mnemo, model, tools }, id, 'Weather in Paris?')).toBe('It is 21 °C in Paris.');
    expect(cities).toEqual([{ city: 'Paris' }]);

    // Two model calls; the second saw the question, the reasoning and the call as stored, and the tool's output.
    expect(inputs).toHaveLength(2);
    expect(inputs[1]!.map((item) => item.type)).toEqual(['message', 'reasoning', 'function_call', 'function_call_output']);
    expect(inputs[1]![1]).toEqual({ type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'opaque-reasoning-state' });
    expect(inputs[1]![2]).toMatchObject({ id: 'fc_1', call_id: 'call_weather', name: 'weather' });
    expect(inputs[1]![3]).toMatchObject({ call_id: 'call_weather', output: '{"celsius":21}' });

    // The conversation as any Mnemo API reads it: five messages, the answer's text as content.
    const { messages } = await server().core.memory.get({ sessionId: id });
    expect(messages.map((m) => m.role)).toEqual(['user', 'reasoning', 'function_call', 'function_call_output', 'assistant']);
    expect(messages.at(-1)).toMatchObject({ uuid: 'msg_answer_2', content: 'It is 21 °C in Paris.' });
  });

  it('docs/openai-conversations.md shows responses.example.ts as it is', async () => {
    const doc = await readFile(new URL('../../../../docs/openai-conversations.md', import.meta.url), 'utf8');
    const example = await readFile(new URL('./responses.example.ts', import.meta.url), 'utf8');
    expect(doc).toContain(example);
  });
});
