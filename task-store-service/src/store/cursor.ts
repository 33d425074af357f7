import { AppError } from '../app-error.js';

/** A list position: the last item's createdAt (ms) and id. Opaque to callers (base64url JSON). */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.createdAt.getTime(), c.id])).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    !Number.isSafeInteger(parsed[0]) ||
    Math.abs(parsed[0] as number) > 8.64e15 || // outside the Date range
    typeof parsed[1] !== 'string' ||
    !/^[A-Za-z0-9_.:-]{1,100}$/.test(parsed[1])
  ) {
    throw new AppError('VALIDATION_FAILED', 'cursor is not one this store issued', {
      fields: [{ path: '/cursor', message: 'is not a valid cursor' }],
    });
  }
  return { createdAt: new Date(parsed[0] as number), id: parsed[1] };
}
