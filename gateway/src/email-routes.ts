/**
 * The email service's public routes at the one public origin: open pixel and click redirect
 * (`/t/o`, `/t/c`), unsubscribe and the preference page (`/u`), provider webhooks
 * (`/webhooks/email/{provider}`). The gateway forwards them as they are; each authenticates itself
 * (signed tokens, provider signatures), so no user token and no gateway proof is involved.
 */
import express, { type Router } from 'express';
import type { Agent } from 'undici';
import { fetch } from 'undici';

const FORWARDED_REQUEST_HEADERS = /^(content-type|user-agent|accept|accept-language|x-.*)$/i;
const FORWARDED_RESPONSE_HEADERS = [
  'content-type',
  'location',
  'cache-control',
  'pragma',
  'expires',
  'content-security-policy',
  'x-content-type-options',
  'referrer-policy',
];

export function emailRoutes(options: { emailOrigin: string; agent: Agent }): Router {
  const router = express.Router();
  const forward: express.RequestHandler = async (req, res, next) => {
    try {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && FORWARDED_REQUEST_HEADERS.test(name)) {
          headers[name] = value;
        }
      }
      headers['x-forwarded-for'] = req.ip ?? '';
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const upstream = await fetch(`${options.emailOrigin}${req.originalUrl}`, {
        method: req.method,
        headers,
        body: hasBody && Buffer.isBuffer(req.body) ? req.body : undefined,
        redirect: 'manual',
        dispatcher: options.agent,
      });
      res.status(upstream.status);
      for (const name of FORWARDED_RESPONSE_HEADERS) {
        const value = upstream.headers.get(name);
        if (value) res.setHeader(name, value);
      }
      res.send(Buffer.from(await upstream.arrayBuffer()));
    } catch (error) {
      next(error);
    }
  };
  const raw = express.raw({ type: () => true, limit: '1mb' });
  router.get(['/t/o/:token', '/t/c/:token', '/u/:token'], forward);
  router.post(['/u/:token', '/webhooks/email/:provider'], raw, forward);
  return router;
}
