import type { AppRouter } from '@mnemo/client';
import { type CreateTRPCReact, createTRPCReact } from '@trpc/react-query';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';

/** The tRPC React bindings for Mnemo's router: every type below is inferred from `AppRouter`. */
// Annotated so the published declarations can name it (an inferred type would point into server source).
export const trpc: CreateTRPCReact<AppRouter, unknown> = createTRPCReact<AppRouter>();

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type Session = RouterOutputs['session']['get'];
export type User = RouterOutputs['user']['get'];
export type Message = RouterOutputs['message']['get'];
export type Memory = RouterOutputs['memory']['get'];
export type Summary = RouterOutputs['memory']['summaries']['items'][number];
export type SessionPage = RouterOutputs['session']['list'];
export type UserPage = RouterOutputs['user']['list'];
export type MessagePage = RouterOutputs['message']['list'];
export type Utils = ReturnType<typeof trpc.useUtils>;
