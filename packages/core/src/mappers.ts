/** The one place where database documents become the domain shapes that leave core. */
import type { MessageDoc, SessionDoc, UserDoc } from './db';
import type { Message, Session, User } from './schemas';

export function toUser(d: UserDoc): User {
  return {
    uuid: d.uuid,
    userId: d.userId,
    ...(d.email !== undefined && { email: d.email }),
    ...(d.firstName !== undefined && { firstName: d.firstName }),
    ...(d.lastName !== undefined && { lastName: d.lastName }),
    metadata: d.metadata ?? {},
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function toSession(d: SessionDoc): Session {
  return {
    uuid: d.uuid,
    sessionId: d.sessionId,
    userId: d.userId ?? null,
    metadata: d.metadata ?? {},
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function toMessage(d: MessageDoc): Message {
  return {
    uuid: d.uuid,
    sessionId: d.sessionId,
    seq: d.seq,
    role: d.role,
    content: d.content,
    metadata: d.metadata ?? {},
    tokenCount: d.tokenCount,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}
