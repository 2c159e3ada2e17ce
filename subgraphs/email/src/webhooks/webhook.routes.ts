/**
 * `POST /webhooks/email/{ses|sendgrid|generic}`: bounce and complaint notifications. Each provider
 * is authenticated its own way before anything is read (SNS signature with our topic ARNs, SendGrid's
 * signed event webhook, our HMAC); a bad signature is 401, a malformed payload 400 with the path of
 * the problem, an unknown or unconfigured provider 404. Applying is idempotent per event id.
 */
import { DomainError, type SubgraphDeps } from '@marketing/platform';
import express, { type Router } from 'express';
import type { EmailRuntime } from '../runtime.js';
import {
  cachingCertificateFetcher,
  GENERIC_SIGNATURE_HEADER,
  GENERIC_TIMESTAMP_HEADER,
  parseGenericEvents,
  parseJsonBody,
  parseSendgridEvents,
  parseSesNotification,
  parseSnsMessage,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  sendgridPublicKey,
  verifyGenericSignature,
  verifySendgridSignature,
  verifySnsSignature,
  type CertificateFetcher,
  type WebhookEvent,
} from './providers.js';
import { applyProviderEvents } from './webhook.service.js';

export class WebhookRejection extends Error {
  constructor(
    readonly status: 401 | 404,
    message: string,
  ) {
    super(message);
  }
}

interface RawRequest {
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** A provider: authenticates the raw request, then parses it into events. */
export type ProviderHandler = (request: RawRequest) => Promise<WebhookEvent[]>;

/** Fetches an SNS signing certificate over https from the (already checked) AWS host, no redirects. */
const fetchCertificate: CertificateFetcher = async (url) => {
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`certificate fetch failed: ${response.status}`);
  return response.text();
};

export function webhookProviders(
  config: EmailRuntime['config'],
  options: {
    fetchCertificate?: CertificateFetcher;
    confirmSubscription?: (url: string) => Promise<void>;
  } = {},
): Record<string, ProviderHandler> {
  const providers: Record<string, ProviderHandler> = {};
  if (config.EMAIL_WEBHOOK_SECRET) {
    const secret = config.EMAIL_WEBHOOK_SECRET;
    providers.generic = async ({ headers, body }) => {
      if (
        !verifyGenericSignature(
          secret,
          headers[GENERIC_SIGNATURE_HEADER],
          headers[GENERIC_TIMESTAMP_HEADER],
          body,
        )
      ) {
        throw new WebhookRejection(401, 'bad or stale X-Webhook-Signature / X-Webhook-Timestamp');
      }
      return parseGenericEvents(parseJsonBody(body));
    };
  }
  if (config.SENDGRID_WEBHOOK_PUBLIC_KEY) {
    const key = sendgridPublicKey(config.SENDGRID_WEBHOOK_PUBLIC_KEY);
    providers.sendgrid = async ({ headers, body }) => {
      const ok = verifySendgridSignature(
        key,
        headers[SENDGRID_SIGNATURE_HEADER],
        headers[SENDGRID_TIMESTAMP_HEADER],
        body,
        { maxAgeSeconds: 600 },
      );
      if (!ok) throw new WebhookRejection(401, 'bad SendGrid event webhook signature');
      return parseSendgridEvents(parseJsonBody(body));
    };
  }
  if (config.SES_TOPIC_ARNS) {
    const topicArns = config.SES_TOPIC_ARNS.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const certificates = cachingCertificateFetcher(options.fetchCertificate ?? fetchCertificate);
    const confirm =
      options.confirmSubscription ??
      (async (url: string) => {
        await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(5_000) });
      });
    providers.ses = async ({ body }) => {
      const message = parseSnsMessage(parseJsonBody(body));
      if (!(await verifySnsSignature(message, certificates, { topicArns }))) {
        throw new WebhookRejection(
          401,
          'bad SNS signature or a topic this service does not accept',
        );
      }
      const notification = parseSesNotification(message);
      if (notification.kind === 'subscription') {
        if (notification.type === 'SubscriptionConfirmation')
          await confirm(notification.subscribeUrl);
        return [];
      }
      return notification.events;
    };
  }
  return providers;
}

export function webhookRouter(
  runtime: EmailRuntime,
  deps: SubgraphDeps,
  providers: Record<string, ProviderHandler> = webhookProviders(runtime.config),
): Router {
  const router = express.Router();
  router.post(
    '/:provider',
    express.raw({ type: () => true, limit: '1mb' }),
    async (req, res, next) => {
      const name = req.params.provider as string;
      const provider = Object.hasOwn(providers, name) ? providers[name] : undefined;
      try {
        if (!provider) throw new WebhookRejection(404, `no webhook "${name}" is configured here`);
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
        deps.metrics.messages.inc({ stage: `webhook.${name}`, result: 'applied' }, applied);
        res.json({ received: events.length, applied });
      } catch (error) {
        if (error instanceof WebhookRejection) {
          res.status(error.status).json({ error: error.message });
          return;
        }
        if (error instanceof DomainError && error.extensions.code === 'BAD_USER_INPUT') {
          res.status(400).json({ error: error.message, path: error.extensions.path });
          return;
        }
        next(error);
      }
    },
  );
  return router;
}
