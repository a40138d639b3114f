import type { z } from 'zod';
import { ValidationError } from './errors';

/** "field.path: problem; …": readable, and names the field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/** Parses service input, turning zod issues into a VALIDATION error that names the field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(describeZodError(result.error), { cause: result.error });
}
