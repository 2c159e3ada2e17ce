/**
 * DataLoader factories over MikroORM: one SQL statement per batch, results in the order of the keys.
 * Created per request with the request's forked EntityManager.
 */
import type { EntityName, FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';

/** Loads entities by a unique key (default `id`); a missing key resolves to null. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function byKeyLoader<T extends object, K extends string = string>(
  em: EntityManager,
  entity: EntityName<T>,
  key: keyof T & string = 'id' as keyof T & string,
  extraWhere: FilterQuery<T> = {} as FilterQuery<T>,
): DataLoader<K, T | null> {
  // A key that cannot be a uuid matches nothing: PostgreSQL would reject the whole batch.
  const properties = em.getMetadata().get(entity).properties as Record<string, { type?: string }>;
  const uuidKey = properties[key]?.type === 'uuid';
  return new DataLoader<K, T | null>(async (keys) => {
    const valid = uuidKey ? keys.filter((k) => UUID.test(String(k))) : [...keys];
    const rows =
      valid.length === 0
        ? []
        : await em.find(entity, { ...extraWhere, [key]: { $in: valid } } as never);
    const byKey = new Map(rows.map((row) => [String(row[key] as unknown), row]));
    return keys.map((k) => byKey.get(String(k)) ?? null);
  });
}

/** Loads all rows sharing a foreign key (a one-to-many fan-out), optionally ordered and capped per key. */
export function groupLoader<T extends object, K extends string = string>(
  em: EntityManager,
  entity: EntityName<T>,
  foreignKey: keyof T & string,
  options: { orderBy?: Record<string, 'asc' | 'desc'>; where?: FilterQuery<T> } = {},
): DataLoader<K, T[]> {
  return new DataLoader<K, T[]>(async (keys) => {
    const rows = await em.find(
      entity,
      { ...(options.where as object), [foreignKey]: { $in: [...keys] } } as never,
      { orderBy: options.orderBy as never },
    );
    const groups = new Map<string, T[]>(keys.map((k) => [String(k), []]));
    for (const row of rows) {
      const value = row[foreignKey] as unknown;
      const fk = String(
        typeof value === 'object' && value !== null ? (value as { id: unknown }).id : value,
      );
      groups.get(fk)?.push(row);
    }
    return keys.map((k) => groups.get(String(k)) ?? []);
  });
}
