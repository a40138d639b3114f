import type { z } from 'zod';
import { ValidationError } from './errors';

/** Parses service input, turning zod issues into a VALIDATION error that names the field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const message = result.error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
  throw new ValidationError(message, { cause: result.error });
}
