/**
 * Which bus messages belong to a person being erased. A message does when one of the person's ids
 * is the value of an identifying key anywhere in its data (`customerId`, `userId`, ...), or any
 * string in it equals one of their email addresses (trimmed, case-insensitively), or when its
 * message id carries one of the ids as a `:`-separated token (ids such as
 * `email.unsubscribed:<customer>:<time>`). Exact values, not substrings: erasing customer `1`
 * must not touch customer `12`'s messages, nor an order whose `quantity` is 1.
 */

/** Keys whose value is a person's id. */
export const ID_KEYS = ['customerId', 'userId', 'anonymousId', 'customer_id', 'user_id'] as const;
const ID_KEY_SET = new Set<string>(ID_KEYS);

export interface MessageErasure {
  /** Customer ids (e.g. the e-commerce user id). */
  ids: string[];
  /** Email addresses, matched trimmed and lower-cased. */
  emails: string[];
}

const SEPARATORS = '[:/|,;\\s]';

/** POSIX regexes (PostgreSQL `~`, JavaScript RegExp alike) matching an id as a message-id token. */
export function idTokenPatterns(ids: string[]): string[] {
  return ids.map(
    (id) => `(^|${SEPARATORS})${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|${SEPARATORS})`,
  );
}

export function normaliseEmails(emails: string[]): string[] {
  return [...new Set(emails.map((e) => e.trim().toLowerCase()).filter((e) => e.length > 0))];
}

/** The JavaScript twin of the SQL match (transports that filter in the process, e.g. JetStream). */
export function messageMentions(
  match: MessageErasure,
): (messageId: string, data: unknown) => boolean {
  const ids = new Set(match.ids);
  const emails = new Set(normaliseEmails(match.emails));
  const tokens = idTokenPatterns(match.ids).map((p) => new RegExp(p));
  const inData = (value: unknown): boolean => {
    if (typeof value === 'string') return emails.has(value.trim().toLowerCase());
    if (Array.isArray(value)) return value.some(inData);
    if (value && typeof value === 'object')
      return Object.entries(value).some(
        ([key, v]) =>
          (ID_KEY_SET.has(key) &&
            (typeof v === 'string' || typeof v === 'number') &&
            ids.has(String(v))) ||
          inData(v),
      );
    return false;
  };
  return (messageId, data) => tokens.some((t) => t.test(messageId)) || inData(data);
}

/**
 * The SQL twin: a boolean expression over a `message_id` text and a `data` jsonb column, with
 * parameters `$ids` (text[]), `$emails` (text[], normalised) and `$tokens` (text[] of patterns).
 */
export function mentionsSql(
  columns: { messageId: string; data: string },
  params: { ids: string; emails: string; tokens: string },
): string {
  const idKeys = ID_KEYS.map((k) => `v ->> '${k}' = any(${params.ids})`).join(' or ');
  return `(${columns.messageId} ~ any(${params.tokens})
    or exists (select 1 from jsonb_path_query(${columns.data}, 'strict $.**') v
      where (jsonb_typeof(v) = 'object' and (${idKeys}))
        or (jsonb_typeof(v) = 'string' and lower(btrim(v #>> '{}')) = any(${params.emails}))))`;
}
