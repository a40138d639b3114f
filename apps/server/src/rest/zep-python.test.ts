/**
 * The published Zep Python SDK (zep-python 1.5.0, the last 1.x, from PyPI) reads Mnemo's summaries:
 * `Memory.summary` from `get_memory`, and `search_memory` with `search_scope="summary"`; and so does
 * LangChain's `ZepMemory` (langchain 0.1.20 with langchain-community 0.0.38, the last releases whose dependencies install
 * beside zep-python 1.x: later ones need an httpx that zep-python 1.x excludes), which puts the
 * summary in front of the history as a system message. Both are installed once into a virtual
 * environment under the repository's `.tools/` (git-ignored; the first run needs PyPI and takes a
 * few minutes), then a short script runs with it against a real server whose summarizer asks a
 * fake OpenAI-compatible model.
 */
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fakeSummary, startFakeLlm } from '@mnemo/core/fake-llm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../env';
import { httpClient } from '../test/http';
import { useTestServer } from '../testing';

const run = promisify(execFile);
const VENV = join(REPO_ROOT, '.tools', 'zep-python-1.5.0-langchain-0.1.20');
const PYTHON = join(VENV, 'bin', 'python');

/** The virtual environment with zep-python 1.5.0, langchain-community 0.0.38 and langchain 0.1.20, made once (a half-made one is made again). */
async function zepPython(): Promise<string> {
  const ready = join(VENV, '.installed');
  if (existsSync(ready)) return PYTHON;
  rmSync(VENV, { recursive: true, force: true });
  await run('python3', ['-m', 'venv', VENV]);
  await run(PYTHON, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    'zep-python==1.5.0',
    'langchain-community==0.0.38',
    'langchain==0.1.20',
  ]);
  await run(PYTHON, ['-c', `open(${JSON.stringify(ready)}, "w").close()`]);
  return PYTHON;
}

const SCRIPT = `
import json, sys
from zep_python import ZepClient
from zep_python.memory import MemorySearchPayload

client = ZepClient(base_url=sys.argv[1])
session_id = sys.argv[2]
memory = client.memory.get_memory(session_id)
results = client.memory.search_memory(session_id, MemorySearchPayload(text="Lisbon", search_scope="summary"))
from langchain_community.memory.zep_memory import ZepMemory
history = ZepMemory(session_id=session_id, url=sys.argv[1], return_messages=True).load_memory_variables({})["history"]
print(json.dumps({
    "summary": memory.summary.to_dict() if memory.summary else None,
    "messages": [m.content for m in memory.messages],
    "search": [{"message": r.message, "summary": r.summary.content if r.summary else None} for r in results],
    "langchain": [[type(m).__name__, m.content] for m in history],
}))
`;

const llm = await startFakeLlm();
afterAll(() => llm.close());
const server = useTestServer({ messageWindow: 6, env: { MNEMO_LLM_URL: llm.url } });
let python: string;
beforeAll(async () => {
  python = await zepPython();
}, 900_000);

describe('zep-python 1.5 and LangChain’s ZepMemory read summaries', () => {
  it('Memory.summary from get_memory, the messages after it, a summary search, and ZepMemory’s system message', async () => {
    const sessionId = 'py-summary';
    const turns = Array.from({ length: 8 }, (_, i) => ({ role: i % 2 ? 'ai' : 'human', content: `turn ${i + 1} about Lisbon` }));
    await httpClient(`${server().url}/api/v1`)('POST', `/sessions/${sessionId}/memory`, { messages: turns });
    await server().core.idle();
    const { stdout } = await run(python, ['-c', SCRIPT, server().url, sessionId]);
    const read = JSON.parse(stdout);
    const all = await server().core.memory.get({ sessionId, lastn: 8 });
    const covered = turns.slice(0, 5).map((m) => `${m.role}: ${m.content}`);
    expect(read.summary).toEqual({
      uuid: all.summary!.uuid,
      created_at: all.summary!.createdAt.toISOString(),
      content: fakeSummary('', covered),
      recent_message_uuid: all.messages[4]!.uuid,
      token_count: all.summary!.tokenCount,
    });
    expect(read.messages).toEqual(['turn 6 about Lisbon', 'turn 7 about Lisbon', 'turn 8 about Lisbon']);
    expect(read.search).toEqual([{ message: null, summary: fakeSummary('', covered) }]);
    expect(read.langchain).toEqual([
      ['SystemMessage', fakeSummary('', covered)],
      ['AIMessage', 'turn 6 about Lisbon'],
      ['HumanMessage', 'turn 7 about Lisbon'],
      ['AIMessage', 'turn 8 about Lisbon'],
    ]);
  });
});
