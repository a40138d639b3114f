export { allItems, newUuid } from './cache';
export { describeError, errorStatus, isClientError, isMnemoError, type MnemoError } from './errors';
export { createMnemoQueryClient, createMnemoTRPCClient, MnemoProvider, type MnemoProviderProps } from './provider';
export {
  type Memory,
  type Message,
  type MessagePage,
  type RouterInputs,
  type RouterOutputs,
  type Session,
  type SessionPage,
  type Summary,
  trpc,
  type User,
  type UserPage,
} from './trpc';
export {
  type AddMemoryInput,
  type AddMemoryVariables,
  type MemoryOptions,
  type SearchMemoryInput,
  type SearchUserInput,
  useAddMemory,
  useMemory,
  usePendingMessages,
  useSearchMemory,
  useSearchUser,
  useSummary,
  withUuids,
} from './use-memory';
export { useLiveMessages, useLiveSessions } from './live';
export { applyStreamEvent, type MessageStreamState, useMessageStream, useStopMessage } from './use-message-stream';
export {
  type MessagesOptions,
  useDeleteMessage,
  useMessages,
  useRestoreMessage,
  useSetHead,
  useSiblings,
  useTruncateMessages,
  useUpdateMessage,
} from './use-messages';
export {
  type PageOptions,
  type SessionListOptions,
  useAddSession,
  useDeleteSession,
  useRestoreSession,
  useSession,
  useSessions,
  useUpdateSessionMetadata,
  useUserSessions,
} from './use-sessions';
export { useAddUser, useDeleteUser, useUpdateUser, useUser, useUsers, type UsersOptions } from './use-users';
export {
  type CursorOf,
  type InfiniteQueryErrorOf,
  type InfiniteQueryHookOptions,
  type MnemoQueries,
  mnemoQueries,
  type QueryErrorOf,
  type InfiniteQueryHookResult,
  type QueryHookOptions,
  type QueryHookResult,
} from './queries';
