/** Structured JSON logs (pino, Fastify's logger): one line per event, with the request id on request logs. */
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import type { Config } from './env';

export type Logger = FastifyBaseLogger;

export function createLogger(level: Config['LOG_LEVEL']): Logger {
  return pino({ level, base: { service: 'mnemo' } });
}
