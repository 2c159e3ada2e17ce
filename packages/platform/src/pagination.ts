/**
 * Opaque cursors for keyset pagination: a cursor encodes the sort value and the id of the last row,
 * so pages stay stable while rows are inserted. A cursor a client tampered with is BAD_USER_INPUT.
 */
import type { EntityName, FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { InvalidInputError } from './errors.js';

export interface CursorPosition {
  sort: string | number;
  id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.sort, position.id])).toString('base64url');
}

export function decodeCursor(
  cursor: string | null | undefined,
  path = 'after',
): CursorPosition | null {
  if (cursor === null || cursor === undefined || cursor === '') return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      (typeof value[0] === 'string' || typeof value[0] === 'number') &&
      typeof value[1] === 'string'
    ) {
      return { sort: value[0], id: value[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidInputError('is not a cursor this API issued', path);
}

/** Caps a client's page size: at least 0, at most `max`. */
export function pageSize(first: number | null | undefined, fallback: number, max = 200): number {
  if (first === null || first === undefined) return fallback;
  if (!Number.isInteger(first) || first < 0)
    throw new InvalidInputError('must be a non-negative integer', 'first');
  return Math.min(first, max);
}

/** Splits `limit + 1` fetched rows into a page and whether another page follows. */
export function toPage<T>(rows: T[], limit: number, position: (row: T) => CursorPosition) {
  const hasNextPage = rows.length > limit;
  const nodes = hasNextPage ? rows.slice(0, limit) : rows;
  const edges = nodes.map((node) => ({ node, cursor: encodeCursor(position(node)) }));
  return {
    edges,
    pageInfo: { hasNextPage, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
  };
}

/**
 * One page of `entity` rows matching `where`, in ascending order of the unique `key`, after the
 * client's cursor: the keyset query every list field uses.
 */
export async function findPage<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  key: keyof T & string,
  args: { first: number | null | undefined; after: string | null | undefined },
) {
  const limit = pageSize(args.first, 50);
  const cursor = decodeCursor(args.after);
  const rows = await em.find(
    entity,
    (cursor ? { $and: [where, { [key]: { $gt: String(cursor.id) } }] } : where) as never,
    { orderBy: { [key]: 'asc' } as never, limit: limit + 1 },
  );
  return toPage(rows, limit, (row) => ({ sort: String(row[key]), id: String(row[key]) }));
}
