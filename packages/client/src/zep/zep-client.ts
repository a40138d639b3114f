import { createMnemoClient, type MnemoClient, trimBaseUrl } from '../client';
import { SERVER_ERROR_MESSAGE } from './errors';
import { MemoryManager } from './memory-manager';
import { MessageManager } from './message-manager';
import type { IMemory, IMemorySearchPayload, ISession, Memory, MemorySearchResult, Session } from './models';
import { UserManager } from './user-manager';

/**
 * The zep-js 0.10 `ZepClient`, served over Mnemo's typed tRPC client (not the REST API).
 * `trpc` is that client, for calls the Zep API has no name for.
 */
export class ZepClient {
  readonly baseURL: string;
  readonly headers: Record<string, string>;
  readonly trpc: MnemoClient;
  readonly memory: MemoryManager;
  readonly message: MessageManager;
  readonly user: UserManager;

  /** Prefer `await ZepClient.init(url, apiKey)`, which also checks that the server answers. */
  constructor(baseURL: string, apiKey?: string) {
    this.baseURL = baseURL;
    this.headers = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
    this.trpc = createMnemoClient({ url: baseURL, apiKey });
    this.memory = new MemoryManager(this.trpc);
    this.message = new MessageManager(this.trpc);
    this.user = new UserManager(this.trpc);
  }

  /** Builds a client and checks `${baseURL}/healthz`; throws if the server does not answer 200. */
  static async init(baseURL: string, apiKey?: string): Promise<ZepClient> {
    const client = new ZepClient(baseURL, apiKey);
    if (!(await client.checkServer())) throw new Error(SERVER_ERROR_MESSAGE);
    return client;
  }

  private async checkServer(): Promise<boolean> {
    try {
      const response = await fetch(`${trimBaseUrl(this.baseURL)}/healthz`, { headers: this.headers });
      return response.status === 200;
    } catch {
      return false;
    }
  }

  /** @deprecated Use `client.memory.getSession()`. */
  getSession(sessionId: string): Promise<Session> {
    return this.memory.getSession(sessionId);
  }

  /** @deprecated Use `client.memory.addSession()`. */
  addSession(session: ISession): Promise<Session> {
    return this.memory.addSession(session);
  }

  /** @deprecated Use `client.memory.getMemory()`. */
  getMemory(sessionID: string, lastn?: number): Promise<Memory> {
    return this.memory.getMemory(sessionID, lastn);
  }

  /** @deprecated Use `client.memory.addMemory()`. */
  addMemory(sessionID: string, memory: IMemory): Promise<string> {
    return this.memory.addMemory(sessionID, memory);
  }

  /** @deprecated Use `client.memory.deleteMemory()`. */
  deleteMemory(sessionID: string): Promise<string> {
    return this.memory.deleteMemory(sessionID);
  }

  /** @deprecated Use `client.memory.searchMemory()`. */
  searchMemory(sessionID: string, searchPayload: IMemorySearchPayload, limit?: number): Promise<MemorySearchResult[]> {
    return this.memory.searchMemory(sessionID, searchPayload, limit);
  }
}
