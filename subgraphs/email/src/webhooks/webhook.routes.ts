/**
 * `POST /webhooks/email/{provider}`: bounce and complaint notifications. Each provider is
 * authenticated its own way before anything is read; a bad signature is 401, a malformed payload
 * 400 with the path of the problem, an unknown provider 404. Applying is idempotent per event id.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SubgraphDeps } from '@marketing/platform';
import express, { type Router } from 'express';
import { z } from 'zod';
import type { EmailRuntime } from '../runtime.js';
import { applyProviderEvents, type ProviderEvent } from './webhook.service.js';

export class WebhookRejection extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 501,
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

/** A provider: authenticates the raw request, then parses it into events. */
export type ProviderHandler = (request: {
  headers: Record<string, string | undefined>;
  body: Buffer;
}) => Promise<ProviderEvent[]>;

const genericPayload = z.object({
  events: z
    .array(
      z.object({
        id: z.string().min(1).max(200),
        type: z.enum(['bounce', 'complaint', 'delivery']),
        bounceType: z.enum(['hard', 'soft']).optional(),
        email: z.email(),
        messageId: z.string().max(500).optional(),
        occurredAt: z.iso.datetime({ offset: true }),
        reason: z.string().max(1_000).optional(),
      }),
    )
    .min(1)
    .max(1_000),
});

/** Our own format, signed with HMAC-SHA256 over `<timestamp>.<body>` (5 minutes' tolerance). */
export function genericProvider(
  secret: string | undefined,
  now = () => Date.now(),
): ProviderHandler {
  return async ({ headers, body }) => {
    if (!secret) throw new WebhookRejection(404, 'the generic webhook is not configured');
    const timestamp = headers['x-webhook-timestamp'] ?? '';
    const signature = (headers['x-webhook-signature'] ?? '').replace(/^sha256=/, '');
    if (!/^\d{9,11}$/.test(timestamp) || Math.abs(now() / 1_000 - Number(timestamp)) > 300) {
      throw new WebhookRejection(401, 'missing, malformed or stale X-Webhook-Timestamp');
    }
    const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
    const given = /^[0-9a-f]{64}$/i.test(signature)
      ? Buffer.from(signature, 'hex')
      : Buffer.alloc(0);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new WebhookRejection(401, 'bad X-Webhook-Signature');
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new WebhookRejection(400, 'the body is not JSON');
    }
    const parsed = genericPayload.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('');
      throw new WebhookRejection(400, issue.message, path.replace(/^\./, ''));
    }
    return parsed.data.events.map((e) => ({
      provider: 'generic',
      eventId: e.id,
      type: e.type,
      bounceType: e.bounceType,
      email: e.email,
      messageId: e.messageId ?? null,
      occurredAt: e.occurredAt,
      reason: e.reason ?? null,
    }));
  };
}

export function webhookRouter(
  runtime: EmailRuntime,
  deps: SubgraphDeps,
  extra: Record<string, ProviderHandler> = {},
): Router {
  const providers: Record<string, ProviderHandler> = {
    generic: genericProvider(runtime.config.EMAIL_WEBHOOK_SECRET),
    ...extra,
  };
  const router = express.Router();
  router.post(
    '/:provider',
    express.raw({ type: () => true, limit: '1mb' }),
    async (req, res, next) => {
      const provider = providers[req.params.provider as string];
      try {
        if (!provider) throw new WebhookRejection(404, `unknown provider "${req.params.provider}"`);
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
        );
        const events = await provider({
          headers,
          body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        });
        const applied = await deps.orm.em
          .fork()
          .transactional((em) => applyProviderEvents(em, events));
        deps.metrics.messages.inc(
          { stage: `webhook.${req.params.provider}`, result: 'applied' },
          applied,
        );
        res.json({ received: events.length, applied });
      } catch (error) {
        if (error instanceof WebhookRejection) {
          res
            .status(error.status)
            .json({ error: error.message, ...(error.path ? { path: error.path } : {}) });
          return;
        }
        next(error);
      }
    },
  );
  return router;
}
