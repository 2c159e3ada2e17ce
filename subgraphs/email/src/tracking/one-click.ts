/**
 * RFC 8058 §3.1: a one-click unsubscribe is a POST whose body is `List-Unsubscribe=One-Click`,
 * sent as `application/x-www-form-urlencoded` or `multipart/form-data`. Mailbox providers differ
 * in the details (trailing newlines, case, extra fields, multipart framing), so this accepts the
 * key-value pair among other fields, with whitespace and case ignored, and nothing else: any
 * other content type or body is not a one-click request (a GET never is; that is the route's).
 */

const MAX_BODY_CHARS = 64 * 1024;

export function isOneClickUnsubscribe(
  contentType: string | null | undefined,
  body: string | Uint8Array | null | undefined,
): boolean {
  try {
    if (typeof contentType !== 'string' || body === null || body === undefined) return false;
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    if (text.length > MAX_BODY_CHARS) return false;
    const [type = '', ...params] = contentType.split(';').map((p) => p.trim());
    switch (type.toLowerCase()) {
      case 'application/x-www-form-urlencoded':
        return [...new URLSearchParams(text.trim())].some(([key, value]) => isPair(key, value));
      case 'multipart/form-data':
        return multipartFields(text, boundaryOf(params, text)).some(([key, value]) =>
          isPair(key, value),
        );
      default:
        return false;
    }
  } catch {
    return false;
  }
}

function isPair(key: string, value: string): boolean {
  return (
    key.trim().toLowerCase() === 'list-unsubscribe' && value.trim().toLowerCase() === 'one-click'
  );
}

/** The `boundary` parameter, or the body's first delimiter line when a sender left it out. */
function boundaryOf(params: string[], body: string): string | null {
  for (const param of params) {
    const match = /^boundary\s*=\s*(?:"([^"]+)"|(\S+))$/i.exec(param);
    if (match) return match[1] ?? match[2]!;
  }
  return /^\s*--(\S+)/.exec(body)?.[1] ?? null;
}

/** `[name, value]` of each form-data part; a part is headers, a blank line, then its value. */
function multipartFields(body: string, boundary: string | null): [string, string][] {
  if (!boundary) return [];
  const fields: [string, string][] = [];
  for (const part of body.split(`--${boundary}`).slice(1)) {
    if (part.startsWith('--')) break;
    const split = /\r?\n\r?\n/.exec(part);
    if (!split) continue;
    const headers = part.slice(0, split.index);
    const disposition = /^content-disposition\s*:\s*form-data\s*;(.*)$/im.exec(headers);
    const name = disposition && /\bname\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(disposition[1]!);
    if (name) fields.push([name[1] ?? name[2]!, part.slice(split.index + split[0].length)]);
  }
  return fields;
}
