/** HTTP Basic authentication with the ingestion write key as the user name (as Segment does). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function requireWriteKey(writeKey: string): RequestHandler {
  const expected = digest(writeKey);
  return (req, res, next) => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(req.header('authorization') ?? '');
    const user = match ? Buffer.from(match[1], 'base64').toString('utf8').split(':')[0] : '';
    if (user && timingSafeEqual(digest(user), expected)) return next();
    res
      .status(401)
      .set('WWW-Authenticate', 'Basic realm="ingestion"')
      .json({
        success: false,
        error: match
          ? 'Unknown write key'
          : 'Send the write key as the HTTP Basic user name (empty password)',
      });
  };
}
