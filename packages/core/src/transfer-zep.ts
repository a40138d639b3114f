/**
 * Import from a running Zep v0.x server over its REST API (issue 12): its users, its sessions (with
 * or without a user) and each session's messages, as export records (transfer.ts) that the import
 * then writes like any other, so it is idempotent too. Ids (`user_id`, `session_id`, message `uuid`),
 * uuids, metadata and `created_at`/`updated_at` are kept; messages get `seq` 1, 2, … in Zep's
 * order (after the session's last one, when the session is already here with messages).
 *
 * Paging, as Zep v0.27 does it (and Mnemo's REST API, apps/server/src/rest): `GET /api/v1/user` and
 * `GET /api/v1/sessions` take `limit` and `cursor`, where Zep's cursor is the integer `id` of the
 * last item seen (Mnemo's, whose items have no `id`, is an offset: both are handled);
 * `GET /api/v1/sessions/{id}/messages` takes `limit` and a 1-based page number as `cursor`, and
 * answers `{messages, total_count, row_count}`. A session's memory (`GET …/memory?lastn=1`) gives
 * its last message's time (`lastMessageAt`) and its latest summary, imported after the session's
 * messages as a summary record whose `recentSeq` is that of the message `recent_message_uuid` names
 * (Zep answers a zero-valued summary, empty and with the nil uuid, when there is none: skipped).
 * One page at a time: memory stays bounded.
 */
import { ValidationError } from './errors';
import { countMessageTokens, countTokens } from './tokens';

export interface ZepImportOptions {
  /** The Zep server's base URL, e.g. `http://localhost:8000` (a trailing `/api/v1` is allowed). */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>` (Zep's API key, or a Mnemo token). */
  apiKey?: string;
  /** Items per page of users and sessions (default 100) and messages per page (default 500). */
  pageSize?: number;
  messagePageSize?: number;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

type Json = Record<string, unknown>;

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** An error of the Zep server or of reaching it (not of the data). */
export class ZepImportError extends Error {
  override name = 'ZepImportError';
}

/** The export records of a Zep server's data, each named for errors (`where`). */
export async function* zepRecords({
  url,
  apiKey,
  pageSize = 100,
  messagePageSize = 500,
  fetch: fetchFn = fetch,
}: ZepImportOptions): AsyncGenerator<{
  where: string;
  record: Json;
  weight: number;
}> {
  let base: URL;
  try {
    base = new URL(`${url.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}/api/v1/`);
  } catch {
    throw new ValidationError(`--url: not a URL: ${JSON.stringify(url)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new ValidationError(`--url: not an http(s) URL: ${JSON.stringify(url)}`);

  /** GET a JSON document; undefined for a 404. */
  async function get(path: string, query: Record<string, number>): Promise<unknown> {
    const target = new URL(path.replace(/^\//, ''), base);
    for (const [key, value] of Object.entries(query)) target.searchParams.set(key, String(value));
    let response: Response;
    try {
      response = await fetchFn(target, { headers: { accept: 'application/json', ...(apiKey && { authorization: `Bearer ${apiKey}` }) } });
    } catch (error) {
      throw new ZepImportError(`GET ${target}: ${(error as Error).message}`, { cause: error });
    }
    if (response.status === 404) return undefined;
    if (!response.ok) throw new ZepImportError(`GET ${target}: ${response.status} ${(await response.text()).slice(0, 300)}`);
    return response.json();
  }

  /** Every item of a Zep list (`limit` + `cursor`: the last item's `id`, or an offset). */
  async function* list(path: string): AsyncGenerator<Json> {
    for (let cursor = 0; ; ) {
      const page = ((await get(path, { limit: pageSize, cursor })) ?? []) as Json[] | null; // Zep answers an empty list as null
      if (page !== null && !Array.isArray(page)) throw new ZepImportError(`GET ${path}: expected a JSON array`);
      const items = page ?? [];
      yield* items;
      if (items.length < pageSize) return;
      const id = items.at(-1)!.id;
      cursor = typeof id === 'number' ? id : cursor + items.length;
    }
  }

  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  const object = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

  for await (const u of list('/user')) {
    if (u.deleted_at) continue;
    yield {
      where: `Zep user ${JSON.stringify(u.user_id)}`,
      weight: 1024,
      record: {
        type: 'user',
        userId: u.user_id,
        uuid: u.uuid,
        email: text(u.email),
        firstName: text(u.first_name),
        lastName: text(u.last_name),
        metadata: object(u.metadata),
        createdAt: u.created_at,
        updatedAt: u.updated_at ?? u.created_at,
      },
    };
  }

  for await (const s of list('/sessions')) {
    if (s.deleted_at) continue;
    const sessionId = String(s.session_id);
    const path = `/sessions/${encodeURIComponent(sessionId)}`;
    const memory = (await get(`${path}/memory`, { lastn: 1 })) as { messages?: Json[] | null; summary?: Json | null } | undefined;
    const last = memory?.messages?.at(-1);
    const lastMessageAt = typeof last?.created_at === 'string' ? last.created_at : null;
    const createdAt = s.created_at as string;
    yield {
      where: `Zep session ${JSON.stringify(sessionId)}`,
      weight: 1024,
      record: {
        type: 'session',
        sessionId,
        uuid: s.uuid,
        userId: text(s.user_id),
        metadata: object(s.metadata),
        retentionDays: null,
        createdAt,
        updatedAt: s.updated_at ?? createdAt,
        lastMessageAt,
        lastActiveAt: lastMessageAt !== null && Date.parse(lastMessageAt) > Date.parse(createdAt) ? lastMessageAt : createdAt,
      },
    };
    let seen = 0;
    for (let page = 1; ; page++) {
      const body = (await get(`${path}/messages`, { limit: messagePageSize, cursor: page })) as
        | { messages?: Json[] | null; total_count?: number }
        | undefined;
      const messages = body?.messages ?? [];
      for (const m of messages) {
        const role = text(m.role) ?? text(m.role_type) ?? 'unknown';
        const content = typeof m.content === 'string' ? m.content : '';
        yield {
          where: `Zep session ${JSON.stringify(sessionId)}, message ${JSON.stringify(m.uuid)}`,
          weight: content.length + 512,
          record: {
            type: 'message',
            sessionId,
            uuid: m.uuid,
            role,
            content,
            parts: null,
            status: 'complete',
            metadata: object(m.metadata),
            tokenCount: typeof m.token_count === 'number' && m.token_count > 0 ? m.token_count : countMessageTokens(role, content),
            createdAt: m.created_at,
            updatedAt: m.updated_at ?? m.created_at,
          },
        };
      }
      seen += messages.length;
      if (messages.length < messagePageSize || (typeof body?.total_count === 'number' && seen >= body.total_count)) break;
    }
    const summary = memory?.summary;
    if (summary && text(summary.content) !== null && summary.uuid !== NIL_UUID) {
      const content = summary.content as string;
      yield {
        where: `Zep session ${JSON.stringify(sessionId)}, summary ${JSON.stringify(summary.uuid)}`,
        weight: content.length + 512,
        record: {
          type: 'summary',
          sessionId,
          uuid: summary.uuid,
          content,
          recentMessageUuid: summary.recent_message_uuid,
          tokenCount: typeof summary.token_count === 'number' && summary.token_count > 0 ? summary.token_count : countTokens(content),
          metadata: object(summary.metadata),
          createdAt: summary.created_at,
        },
      };
    }
  }
}
