/** The one place where database documents become the domain shapes that leave core. */
import type { MessageDoc, SessionDoc, UserDoc } from './db';
import { type Message, type MessageStatus, type Session, STREAM_IDLE_MS, type User } from './schemas';

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
    lastMessageAt: d.lastMessageAt ?? null,
    lastActiveAt: d.lastActiveAt ?? d.createdAt,
    messageCount: d.messageCount ?? 0,
    retentionDays: d.retentionDays ?? null,
  };
}

export function toMessage(d: MessageDoc): Message {
  return {
    uuid: d.uuid,
    sessionId: d.sessionId,
    seq: d.seq,
    role: d.role,
    content: d.content,
    ...(d.parts !== undefined && { parts: JSON.parse(d.parts) }),
    status: statusOf(d),
    metadata: d.metadata ?? {},
    tokenCount: d.tokenCount,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/**
 * A message with its place in the conversation tree (Message.parentId, siblingIndex, siblingCount).
 * The fields are set on the object `toMessage` made rather than spread into a new one: a spread of
 * these objects (with their dates) cost 50× more, which made the reads of sessions with branches 10× dearer.
 */
export function toPlacedMessage(d: MessageDoc, parentId: string | null, siblingIndex: number, siblingCount: number): Message {
  const message = toMessage(d);
  message.parentId = parentId;
  message.siblingIndex = siblingIndex;
  message.siblingCount = siblingCount;
  return message;
}

/** A streaming message nobody has updated for STREAM_IDLE_MS was abandoned (its writer died): `interrupted`. */
export function statusOf(d: MessageDoc): MessageStatus {
  if (d.status !== 'streaming') return d.status ?? 'complete';
  return Date.now() - d.updatedAt.getTime() > STREAM_IDLE_MS ? 'interrupted' : 'streaming';
}
