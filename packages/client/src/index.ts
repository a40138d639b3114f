/**
 * @mnemo/client: the typed tRPC client (`createMnemoClient`) and, built on it, a facade with the
 * public API of zep-js 0.10 (`ZepClient`, `Session`, `Memory`, …) so Zep code runs unchanged.
 */
export {
  type AppRouter,
  createMnemoClient,
  type GetToken,
  isTRPCClientError,
  mnemoLinks,
  type MnemoClient,
  type MnemoClientOptions,
  type RouterInputs,
  type RouterOutputs,
  TRPCClientError,
} from './client';
export { APIError, AuthenticationError, NotFoundError, ZepError } from './zep/errors';
export { MemoryManager } from './zep/memory-manager';
export { MessageManager } from './zep/message-manager';
export {
  CreateUserRequest,
  type ICreateUserRequest,
  type IMemory,
  type IMemorySearchPayload,
  type IMemorySearchResult,
  type IMessage,
  type ISession,
  type ISummary,
  type IUpdateUserRequest,
  type IUser,
  Memory,
  MemorySearchPayload,
  MemorySearchResult,
  Message,
  Session,
  Summary,
  UpdateUserRequest,
  User,
} from './zep/models';
export { UserManager } from './zep/user-manager';
export { ZepClient } from './zep/zep-client';
