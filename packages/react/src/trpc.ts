import type { AppRouter } from '@mnemo/server/router';
import { createTRPCReact } from '@trpc/react-query';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';

/** The tRPC React bindings for Mnemo's router: every type below is inferred from `AppRouter`. */
export const trpc = createTRPCReact<AppRouter>();

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type Session = RouterOutputs['session']['get'];
export type User = RouterOutputs['user']['get'];
export type Message = RouterOutputs['message']['get'];
export type Memory = RouterOutputs['memory']['get'];
export type SessionPage = RouterOutputs['session']['list'];
export type UserPage = RouterOutputs['user']['list'];
export type MessagePage = RouterOutputs['message']['list'];
export type Utils = ReturnType<typeof trpc.useUtils>;
