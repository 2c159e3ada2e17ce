/**
 * Which bus messages belong to a person being erased. A message does when any string or number in
 * its data equals one of the person's ids, or equals one of their email addresses (trimmed,
 * case-insensitively), or when its message id carries one of the ids as a `:`-separated token
 * (ids such as `email.unsubscribed:<customer>:<time>`). Exact values, not substrings: erasing
 * customer `1` must not touch customer `12`'s messages.
 */

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
    if (typeof value === 'string') return ids.has(value) || emails.has(value.trim().toLowerCase());
    if (typeof value === 'number') return ids.has(String(value));
    if (Array.isArray(value)) return value.some(inData);
    if (value && typeof value === 'object') return Object.values(value).some(inData);
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
  return `(${columns.messageId} ~ any(${params.tokens})
    or exists (select 1 from jsonb_path_query(${columns.data}, 'strict $.**') v
      where jsonb_typeof(v) in ('string', 'number')
        and (v #>> '{}' = any(${params.ids}) or lower(btrim(v #>> '{}')) = any(${params.emails}))))`;
}
