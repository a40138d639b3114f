/** Reading a streaming reply as a stream, resuming it from a stored offset, and stopping it. */
import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../errors';
import type { MessageStreamEvent, MessageStreamInput } from '../schemas';
import { useTestCore } from '../test/core';
import type { StreamItem } from './message-stream';

const core = useTestCore();

/** A reader: collects what the stream sends; `until(n)` waits for n items; `done` resolves at its end. */
function read(input: MessageStreamInput) {
  const items: StreamItem[] = [];
  const controller = new AbortController();
  let notify: (() => void) | undefined;
  const done = (async () => {
    for await (const item of core().memory.stream(input, { signal: controller.signal })) {
      items.push(item);
      notify?.();
    }
  })();
  done.catch(() => {}).finally(() => notify?.());
  return {
    items,
    done,
    events: () => items.map((i) => i.event),
    /** Resolves once `n` items arrived (or the stream ended). */
    async until(n: number) {
      const deadline = Date.now() + 10_000;
      while (items.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${items.length} of ${n} stream events arrived`);
        await Promise.race([
          new Promise<void>((resolve) => (notify = resolve)),
          done.catch(() => {}),
          new Promise((r) => setTimeout(r, 50)),
        ]);
      }
    },
    stop: () => controller.abort(),
  };
}

/** The text a reader has, rebuilt from its events. */
function textOf(events: MessageStreamEvent[]): string {
  let text = '';
  for (const e of events) {
    if (e.type === 'message') text = e.message.content;
    if (e.type === 'append') text += e.text;
  }
  return text;
}

const streaming = (sessionId: string, uuid: string, content = '') =>
  core().memory.add({ sessionId, messages: [{ role: 'assistant', content, uuid, status: 'streaming' }] });
const append = (sessionId: string, uuid: string, text: string) => core().memory.updateMessage({ sessionId, uuid, append: text });

describe('message.stream', () => {
  it('sends the message so far, each append as a delta, then its end; several readers get the same', async () => {
    await streaming('s-basic', 'r1', 'Once');
    const readers = [read({ sessionId: 's-basic', uuid: 'r1' }), read({ sessionId: 's-basic', uuid: 'r1' })];
    for (const r of readers) await r.until(1);
    await append('s-basic', 'r1', ' upon');
    await append('s-basic', 'r1', ' a time');
    await core().memory.updateMessage({ sessionId: 's-basic', uuid: 'r1', status: 'complete' });
    for (const r of readers) {
      await r.done;
      expect(r.events()).toEqual([
        { type: 'message', message: expect.objectContaining({ uuid: 'r1', content: 'Once', status: 'streaming' }) },
        { type: 'append', text: ' upon' },
        { type: 'append', text: ' a time' },
        { type: 'end', status: 'complete' },
      ]);
      // Each id is the stored offset: the message's update count and its text length.
      expect(r.items.map((i) => i.id)).toEqual(['0.4', '1.9', '2.16', '3.16']);
    }
  });

  it('a late joiner gets everything so far at once; a reader resuming from an event id gets exactly the rest', async () => {
    await streaming('s-resume', 'r1');
    const first = read({ sessionId: 's-resume', uuid: 'r1' });
    await first.until(1);
    for (const word of ['a', 'b', 'c']) await append('s-resume', 'r1', word);
    await first.until(4);
    first.stop(); // the connection drops after 'b'…
    await first.done;
    const lastEventId = first.items[2]!.id;
    for (const word of ['d', 'e']) await append('s-resume', 'r1', word);
    const late = read({ sessionId: 's-resume', uuid: 'r1' });
    const resumed = read({ sessionId: 's-resume', uuid: 'r1', lastEventId });
    await late.until(1);
    await resumed.until(1);
    expect(late.events()).toEqual([{ type: 'message', message: expect.objectContaining({ content: 'abcde' }) }]);
    expect(resumed.events()).toEqual([{ type: 'append', text: 'cde' }]);
    await append('s-resume', 'r1', 'f');
    await core().memory.updateMessage({ sessionId: 's-resume', uuid: 'r1', status: 'complete' });
    await resumed.done;
    await late.done;
    expect(textOf([...first.events().slice(0, 3), ...resumed.events()])).toBe('abcdef');
    expect(textOf(late.events())).toBe('abcdef');
    // Resuming at the end: nothing again but the end.
    const after = read({ sessionId: 's-resume', uuid: 'r1', lastEventId: resumed.items.at(-1)!.id });
    await after.done;
    expect(after.events()).toEqual([{ type: 'end', status: 'complete' }]);
  });

  it('a change that is not an append (parts, text replaced) sends the whole message; `from` is honoured only for appends', async () => {
    await streaming('s-parts', 'r1', 'abc');
    const r = read({ sessionId: 's-parts', uuid: 'r1', from: 1 });
    await r.until(1);
    expect(r.events()).toEqual([{ type: 'append', text: 'bc' }]);
    await core().memory.updateMessage({ sessionId: 's-parts', uuid: 'r1', parts: [{ type: 'text', text: 'xyz' }] });
    await r.until(2);
    expect(r.events()[1]).toEqual({
      type: 'message',
      message: expect.objectContaining({ content: 'xyz', parts: [{ type: 'text', text: 'xyz' }] }),
    });
    // Its text replaced since it was added: an offset in characters cannot be trusted, the whole message comes.
    const from = read({ sessionId: 's-parts', uuid: 'r1', from: 2 });
    await from.until(1);
    expect(from.events()).toEqual([{ type: 'message', message: expect.objectContaining({ content: 'xyz' }) }]);
    await core().memory.stopMessage({ sessionId: 's-parts', uuid: 'r1' });
    await Promise.all([r.done, from.done]);
    expect(r.events().at(-1)).toEqual({ type: 'end', status: 'stopped' });
  });

  it('ends with NOT_FOUND when the message is deleted; refuses an unknown message and a malformed event id', async () => {
    await streaming('s-gone', 'r1', 'x');
    const r = read({ sessionId: 's-gone', uuid: 'r1' });
    await r.until(1);
    await core().memory.deleteMessage({ sessionId: 's-gone', uuid: 'r1' });
    await expect(r.done).rejects.toBeInstanceOf(NotFoundError);
    await expect(read({ sessionId: 's-gone', uuid: 'r1' }).done).rejects.toBeInstanceOf(NotFoundError);
    await streaming('s-gone', 'r2', 'x');
    await expect(read({ sessionId: 's-gone', uuid: 'r2', lastEventId: 'abc' }).done).rejects.toBeInstanceOf(ValidationError);
  });

  it('a finished message is sent whole with its end', async () => {
    await core().memory.add({ sessionId: 's-done', messages: [{ role: 'user', content: 'hi', uuid: 'u1' }] });
    const r = read({ sessionId: 's-done', uuid: 'u1' });
    await r.done;
    expect(r.events()).toEqual([
      { type: 'message', message: expect.objectContaining({ content: 'hi', status: 'complete' }) },
      { type: 'end', status: 'complete' },
    ]);
  });
});

describe('message.stop', () => {
  it('ends a streaming reply as stopped with its text; the writer is told by its next write, which changes nothing', async () => {
    await streaming('stop', 'r1', 'Half');
    const r = read({ sessionId: 'stop', uuid: 'r1' });
    await r.until(1);
    const stopped = await core().memory.stopMessage({ sessionId: 'stop', uuid: 'r1' });
    expect(stopped).toMatchObject({ content: 'Half', status: 'stopped' });
    await r.done;
    expect(r.events()).toEqual([
      { type: 'message', message: expect.objectContaining({ content: 'Half' }) },
      { type: 'end', status: 'stopped' },
    ]);
    // The writer's next append and its final 'complete' are answered 'stopped' and ignored.
    expect(await append('stop', 'r1', ' more')).toMatchObject({ content: 'Half', status: 'stopped' });
    expect(await core().memory.updateMessage({ sessionId: 'stop', uuid: 'r1', content: 'Half more', status: 'complete' })).toMatchObject({
      content: 'Half',
      status: 'stopped',
    });
    // Idempotent; the message still reads as stopped; an edit without a status (a user's) still applies.
    expect(await core().memory.stopMessage({ sessionId: 'stop', uuid: 'r1' })).toEqual(stopped);
    expect((await core().memory.get({ sessionId: 'stop' })).messages).toMatchObject([{ content: 'Half', status: 'stopped' }]);
    expect(await core().memory.updateMessage({ sessionId: 'stop', uuid: 'r1', content: 'Half.' })).toMatchObject({
      content: 'Half.',
      status: 'stopped',
    });
  });

  it('stopping a finished message changes nothing; an unknown one is NOT_FOUND', async () => {
    await core().memory.add({ sessionId: 'stop-done', messages: [{ role: 'assistant', content: 'Done.', uuid: 'd1' }] });
    const before = await core().memory.message({ sessionId: 'stop-done', uuid: 'd1' });
    expect(await core().memory.stopMessage({ sessionId: 'stop-done', uuid: 'd1' })).toEqual(before);
    await expect(core().memory.stopMessage({ sessionId: 'stop-done', uuid: 'nope' })).rejects.toBeInstanceOf(NotFoundError);
  });
});
