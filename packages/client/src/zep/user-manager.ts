import type { MnemoClient } from '../client';
import { requireId, zepCall } from './errors';
import { fromUser, toSession, toUser } from './mappers';
import type { ICreateUserRequest, IUpdateUserRequest, Session, User } from './models';
import { chunks, slice, walk } from '@mnemo/core/zep';

/** zep-js's `client.user`. */
export class UserManager {
  constructor(private readonly trpc: MnemoClient) {}

  /** Creates a user; an existing live id is an APIError (409). */
  async add(user: ICreateUserRequest): Promise<User> {
    requireId(user?.user_id, 'user.user_id');
    return toUser(await zepCall(() => this.trpc.user.add.mutate(fromUser(user))));
  }

  /** @throws NotFoundError when the user does not exist or was deleted. */
  async get(userId: string): Promise<User> {
    requireId(userId, 'userId');
    return toUser(await zepCall(() => this.trpc.user.get.query({ userId })));
  }

  /** Sets the given fields; `metadata` is merged into the stored metadata (`{ $delete: true }` removes a key). */
  async update(user: IUpdateUserRequest): Promise<User> {
    requireId(user?.user_id, 'user.user_id');
    return toUser(await zepCall(() => this.trpc.user.update.mutate(fromUser(user))));
  }

  /** Soft-deletes the user, its sessions and their messages; resolves to `"OK"`. */
  async delete(userId: string): Promise<string> {
    requireId(userId, 'userId');
    await zepCall(() => this.trpc.user.delete.mutate({ userId }));
    return 'OK';
  }

  /** Users [cursor, cursor + limit) by offset; same cost model as `memory.listSessions`. */
  async list(limit?: number, cursor?: number): Promise<User[]> {
    const items = await zepCall(() =>
      slice(
        walk((page) => this.trpc.user.list.query(page)),
        cursor,
        limit,
      ),
    );
    return items.map(toUser);
  }

  /** Every live user exactly once, in chunks of `chunkSize`. */
  async *listChunked(chunkSize = 100): AsyncGenerator<User[], void, unknown> {
    const pages = chunks(
      walk((page) => this.trpc.user.list.query(page)),
      chunkSize,
    );
    while (true) {
      const next = await zepCall(() => pages.next());
      if (next.done) return;
      yield next.value.map(toUser);
    }
  }

  /** All live sessions of the user, oldest first. @throws NotFoundError for an unknown user. */
  async getSessions(userId: string): Promise<Session[]> {
    requireId(userId, 'userId');
    const items = await zepCall(() => slice(walk((page) => this.trpc.user.sessions.query({ userId, ...page }))));
    return items.map(toSession);
  }
}
