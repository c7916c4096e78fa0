/**
 * Reading admin API input: a zod schema per body and query, checked before anything is
 * done, so a bad request is a 400 that names the field and changes nothing.
 */
import { z } from 'zod';
import { NewsletterError } from '../errors.ts';

function describe(error: z.ZodError, where: string): { message: string; field: string } {
  const first = error.issues[0]!;
  const field = first.code === 'unrecognized_keys' ? first.keys.join(', ') : first.path.join('.') || where;
  const message = error.issues
    .map((issue) => {
      const path = issue.code === 'unrecognized_keys' ? '' : issue.path.join('.');
      return `${path ? `${path}: ` : ''}${issue.message}`;
    })
    .join('; ');
  return { message: `${where}: ${message}`, field };
}

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'path'): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const { message, field } = describe(parsed.error, where);
  throw new NewsletterError('INPUT_INVALID', message, { field });
}

/** An empty body, or `{}`: what the action routes (pause, resume, cancel) accept. */
export const noBody = z.strictObject({}).optional();

/** Query numbers arrive as text. */
export const queryInt = (min: number, max: number) =>
  z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

/** A content-type header's media type, lower-cased, without parameters. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}
