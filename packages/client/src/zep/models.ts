/**
 * The model classes of zep-js 0.10.0, with the same snake_case fields, constructors and `toDict()`.
 * Timestamps follow zep-js's declared types: ISO strings on sessions and messages, `Date` on users.
 * (Mnemo additionally fills `Message.updated_at`.)
 */
/* eslint-disable camelcase */

export interface ISession {
  uuid?: string;
  created_at?: string;
  updated_at?: string;
  deleted_at?: string;
  session_id: string;
  metadata: Record<string, any>;
  user_id?: string;
}

export class Session {
  uuid?: string;
  created_at?: string;
  updated_at?: string;
  deleted_at?: string;
  session_id: string;
  metadata: Record<string, any>;
  user_id?: string;

  constructor(data: ISession) {
    this.uuid = data.uuid;
    this.created_at = data.created_at;
    this.updated_at = data.updated_at;
    this.deleted_at = data.deleted_at;
    this.session_id = data.session_id;
    this.metadata = data.metadata;
    this.user_id = data.user_id;
  }

  toDict(): ISession {
    return {
      uuid: this.uuid,
      created_at: this.created_at,
      updated_at: this.updated_at,
      deleted_at: this.deleted_at,
      session_id: this.session_id,
      metadata: this.metadata,
      user_id: this.user_id,
    };
  }
}

export interface IMessage {
  uuid?: string;
  created_at?: string;
  updated_at?: string;
  role: string;
  content: string;
  token_count?: number;
  metadata?: Record<string, any>;
}

export class Message {
  uuid?: string;
  created_at?: string;
  updated_at?: string;
  role: string;
  content: string;
  token_count?: number;
  metadata?: Record<string, any>;

  constructor(data: IMessage) {
    this.uuid = data.uuid;
    this.created_at = data.created_at;
    this.updated_at = data.updated_at;
    this.role = data.role;
    this.content = data.content;
    this.token_count = data.token_count;
    this.metadata = data.metadata;
  }

  toDict(): IMessage {
    return {
      uuid: this.uuid,
      created_at: this.created_at,
      updated_at: this.updated_at,
      role: this.role,
      content: this.content,
      token_count: this.token_count,
      metadata: this.metadata,
    };
  }
}

/** zep-js's Summary: a progressive summary of a session, up to and including `recent_message_uuid`. */
export interface ISummary {
  uuid?: string;
  created_at?: string;
  content: string;
  recent_message_uuid?: string;
  token_count?: number;
  metadata?: Record<string, any>;
}

export class Summary {
  uuid?: string;
  created_at?: string;
  content: string;
  recent_message_uuid?: string;
  token_count?: number;
  metadata?: Record<string, any>;

  constructor(data: ISummary) {
    this.uuid = data.uuid;
    this.created_at = data.created_at;
    this.content = data.content;
    this.recent_message_uuid = data.recent_message_uuid;
    this.token_count = data.token_count;
    this.metadata = data.metadata;
  }

  toDict(): ISummary {
    return {
      uuid: this.uuid,
      created_at: this.created_at,
      content: this.content,
      recent_message_uuid: this.recent_message_uuid,
      token_count: this.token_count,
      metadata: this.metadata,
    };
  }
}

/** zep-js's Memory: the messages and, when the server summarises (MNEMO_LLM_URL), the latest summary. */
export interface IMemory {
  messages?: IMessage[];
  summary?: ISummary;
  metadata?: Record<string, any>;
  uuid?: string;
  created_at?: string;
  token_count?: number;
}

export class Memory {
  messages: Message[];
  summary?: Summary;
  metadata: Record<string, any>;
  uuid?: string;
  created_at?: string;
  token_count?: number;

  constructor(data: IMemory = {}) {
    this.messages = (data.messages ?? []).map((message) => new Message(message));
    this.summary = data.summary ? new Summary(data.summary) : undefined;
    this.metadata = data.metadata ?? {};
    this.uuid = data.uuid;
    this.created_at = data.created_at;
    this.token_count = data.token_count;
  }

  toDict(): IMemory {
    return {
      messages: this.messages.map((message) => message.toDict()),
      summary: this.summary?.toDict(),
      metadata: this.metadata,
      uuid: this.uuid,
      created_at: this.created_at,
      token_count: this.token_count,
    };
  }
}

/** zep-js's `toDictFilterEmpty`: own keys whose value is neither null nor undefined. */
function filterEmpty<T extends object>(instance: T): T {
  return Object.fromEntries(Object.entries(instance).filter(([, v]) => v !== null && v !== undefined)) as T;
}

export interface IUser {
  uuid?: string;
  id?: number;
  created_at?: Date;
  updated_at?: Date;
  deleted_at?: Date;
  user_id: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  metadata?: Record<string, any>;
}

export class User implements IUser {
  uuid?: string;
  id?: number;
  created_at?: Date;
  updated_at?: Date;
  deleted_at?: Date;
  user_id: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  metadata?: Record<string, any>;

  constructor({ user_id, uuid, id, created_at, updated_at, deleted_at, email, first_name, last_name, metadata }: IUser) {
    this.user_id = user_id;
    this.uuid = uuid;
    this.id = id;
    this.created_at = created_at;
    this.updated_at = updated_at;
    this.deleted_at = deleted_at;
    this.email = email;
    this.first_name = first_name;
    this.last_name = last_name;
    this.metadata = metadata;
  }

  toDict(): IUser {
    return filterEmpty(this);
  }
}

export interface ICreateUserRequest {
  user_id: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  metadata?: Record<string, any>;
}

export class CreateUserRequest implements ICreateUserRequest {
  user_id: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  metadata?: Record<string, any>;

  constructor({ user_id, email, first_name, last_name, metadata }: ICreateUserRequest) {
    this.user_id = user_id;
    this.email = email;
    this.first_name = first_name;
    this.last_name = last_name;
    this.metadata = metadata;
  }

  toDict(): ICreateUserRequest {
    return filterEmpty(this);
  }
}

export interface IUpdateUserRequest extends ICreateUserRequest {
  uuid?: string;
}

export class UpdateUserRequest implements IUpdateUserRequest {
  uuid?: string;
  user_id: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  metadata?: Record<string, any>;

  constructor({ uuid, user_id, email, first_name, last_name, metadata }: IUpdateUserRequest) {
    this.uuid = uuid;
    this.user_id = user_id;
    this.email = email;
    this.first_name = first_name;
    this.last_name = last_name;
    this.metadata = metadata;
  }

  toDict(): IUpdateUserRequest {
    return filterEmpty(this);
  }
}

export interface IMemorySearchPayload {
  text?: string;
  /** A MongoDB-style filter on message metadata (`{"metadata.tag": "x"}`), plus optional `start_date`/`end_date`. */
  metadata?: Record<string, any>;
  search_scope?: 'messages' | 'summary';
  search_type?: 'similarity' | 'mmr';
  mmr_lambda?: number;
}

export class MemorySearchPayload implements IMemorySearchPayload {
  text?: string;
  metadata?: Record<string, any>;
  search_scope?: 'messages' | 'summary';
  search_type?: 'similarity' | 'mmr';
  mmr_lambda?: number;

  constructor({ text, metadata, search_scope, search_type, mmr_lambda }: IMemorySearchPayload) {
    this.text = text;
    this.metadata = metadata;
    this.search_scope = search_scope;
    this.search_type = search_type;
    this.mmr_lambda = mmr_lambda;
  }
}

export interface IMemorySearchResult {
  message?: IMessage;
  /** In a summary search (search_scope "summary"). */
  summary?: ISummary;
  metadata?: Record<string, any>;
  /** Relevance, higher is better. */
  dist?: number;
  embedding?: number[];
}

export class MemorySearchResult {
  message?: Message;
  summary?: Summary;
  metadata: Record<string, any>;
  dist?: number;
  embedding?: number[];

  constructor({ message, summary, metadata, dist, embedding }: IMemorySearchResult = {}) {
    this.message = message && new Message(message);
    this.summary = summary && new Summary(summary);
    this.metadata = metadata ?? {};
    this.dist = dist;
    this.embedding = embedding;
  }
}
