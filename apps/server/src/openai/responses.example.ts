// agent.ts: a tool-calling turn with the Responses API, the conversation kept in Mnemo. `mnemo` is an OpenAI
// client whose baseURL is Mnemo's /v1; `model` is any client that speaks the Responses API (OpenAI, or a
// compatible server). Every output item (reasoning, function calls, messages) is stored as it came.
import type OpenAI from 'openai';

type Input = OpenAI.Responses.ResponseInputItem;
export type Tools = Record<string, (args: unknown) => Promise<unknown>>;

export async function turn(
  { mnemo, model, tools }: { mnemo: OpenAI; model: OpenAI; tools: Tools },
  conversationId: string,
  text: string,
): Promise<string> {
  await mnemo.conversations.items.create(conversationId, { items: [{ role: 'user', content: text }] });
  for (let step = 0; step < 5; step++) {
    // The whole conversation, oldest first: the SDK pages through it.
    const input: Input[] = [];
    for await (const item of mnemo.conversations.items.list(conversationId, { order: 'asc' })) input.push(item as Input);
    const response = await model.responses.create({
      model: 'gpt-5-mini',
      input,
      store: false, // the conversation lives in Mnemo, not in the model's provider
      include: ['reasoning.encrypted_content'],
      tools: Object.keys(tools).map((name) => ({ type: 'function', name, parameters: null, strict: false })),
    });
    await mnemo.conversations.items.create(conversationId, { items: response.output as Input[] });

    const calls = response.output.filter((item) => item.type === 'function_call');
    if (calls.length === 0) return response.output_text;
    const outputs: Input[] = [];
    for (const call of calls) {
      const result = await tools[call.name]!(JSON.parse(call.arguments));
      outputs.push({ type: 'function_call_output', call_id: call.call_id, output: JSON.stringify(result) });
    }
    await mnemo.conversations.items.create(conversationId, { items: outputs });
  }
  throw new Error('no answer after 5 steps');
}
