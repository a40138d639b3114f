/**
 * The only place where Zep's snake_case shapes meet Mnemo's camelCase ones. Mnemo types are taken
 * from the router's inferred outputs and inputs, so a server change shows up here as a type error.
 */
/* eslint-disable camelcase */
import type { RouterInputs, RouterOutputs } from '../client';
import { type ICreateUserRequest, type IMessage, type ISession, Message, Session, Summary, User } from './models';

type MnemoSession = RouterOutputs['session']['get'];
type MnemoUser = RouterOutputs['user']['get'];
type MnemoMessage = RouterOutputs['message']['get'];
type NewMessage = RouterInputs['memory']['add']['messages'][number];
type MnemoSummary = RouterOutputs['memory']['summaries']['items'][number];

// Mnemo → Zep

export function toSession(s: MnemoSession): Session {
  return new Session({
    uuid: s.uuid,
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
    session_id: s.sessionId,
    user_id: s.userId ?? undefined,
    metadata: s.metadata,
  });
}

export function toUser(u: MnemoUser): User {
  return new User({
    uuid: u.uuid,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
    user_id: u.userId,
    email: u.email,
    first_name: u.firstName,
    last_name: u.lastName,
    metadata: u.metadata,
  });
}

export function toMessage(m: MnemoMessage): Message {
  return new Message({
    uuid: m.uuid,
    created_at: m.createdAt.toISOString(),
    updated_at: m.updatedAt.toISOString(),
    role: m.role,
    content: m.content,
    token_count: m.tokenCount,
    metadata: m.metadata,
  });
}

export function toSummary(s: MnemoSummary): Summary {
  return new Summary({
    uuid: s.uuid,
    created_at: s.createdAt.toISOString(),
    content: s.content,
    recent_message_uuid: s.recentMessageUuid,
    token_count: s.tokenCount,
    metadata: s.metadata,
  });
}

// Zep → Mnemo

export function fromSession(s: ISession): RouterInputs['session']['add'] {
  return { sessionId: s.session_id, userId: s.user_id, metadata: s.metadata };
}

export function fromUser(u: ICreateUserRequest): RouterInputs['user']['add'] {
  return {
    userId: u.user_id,
    email: u.email ?? undefined,
    firstName: u.first_name ?? undefined,
    lastName: u.last_name ?? undefined,
    metadata: u.metadata ?? undefined,
  };
}

export function fromMessage(m: IMessage): NewMessage {
  return {
    role: m.role,
    content: m.content,
    metadata: m.metadata ?? undefined,
    tokenCount: m.token_count ?? undefined,
    uuid: m.uuid ?? undefined,
    createdAt: m.created_at ? new Date(m.created_at) : undefined,
  };
}
