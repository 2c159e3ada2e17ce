/** The only place the email subgraph reads its environment. */
import { loadConfig, subgraphEnv } from '@marketing/platform';
import { z } from 'zod';

const rate = z.coerce.number().min(0).default(0);

export const emailEnv = subgraphEnv(4003).extend({
  /** Base of tracking and unsubscribe links: the gateway's public origin. */
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).default('http://localhost:4000'),
  /** Outgoing mail (`smtp://user:pass@host:587`, `smtps://...`); unset: `.eml` files in MAIL_DIR. */
  SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\//.test(v), 'must be an smtp:// or smtps:// URL')
    .optional(),
  MAIL_DIR: z.string().default('./.data/mail'),
  MAIL_FROM: z.string().min(3).default('Marketing <marketing@localhost>'),
  COMPANY_POSTAL_ADDRESS: z
    .string()
    .min(1)
    .default('Example Shop GmbH, Musterstraße 1, 10115 Berlin, Germany'),
  /** Signs tracking and unsubscribe tokens; derived from GATEWAY_PROOF_SECRET when unset. */
  EMAIL_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Extra token keys still accepted (comma-separated), for rotation. */
  EMAIL_TOKEN_PREVIOUS_SECRETS: z.string().optional(),
  EMAIL_SMTP_CONNECTIONS: z.coerce.number().int().min(1).max(100).default(5),
  /** Messages per second per sender process (0 = no limit). */
  EMAIL_RATE_PER_SECOND: rate,
  /** Messages per second to one recipient domain per sender process (0 = no limit). */
  EMAIL_DOMAIN_RATE_PER_SECOND: rate,
  /** Delays before retrying a temporary SMTP failure, ms, comma-separated (the last repeats). */
  EMAIL_RETRY_BACKOFF_MS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'must be comma-separated milliseconds')
    .default('30000,120000,600000,1800000,3600000'),
  EMAIL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  DKIM_DOMAIN: z.string().optional(),
  DKIM_SELECTOR: z.string().optional(),
  DKIM_PRIVATE_KEY: z.string().optional(),
  /** Shared secret of the generic webhook (HMAC-SHA256 of the body). */
  EMAIL_WEBHOOK_SECRET: z.string().min(16).optional(),
  /** SendGrid's signed event webhook verification key (base64 DER). */
  SENDGRID_WEBHOOK_PUBLIC_KEY: z.string().optional(),
  /** Amazon SNS topic ARNs whose notifications are accepted (comma-separated). */
  SES_TOPIC_ARNS: z.string().optional(),
});
export type EmailConfig = z.infer<typeof emailEnv>;

export function loadEmailConfig(env: NodeJS.ProcessEnv = process.env): EmailConfig {
  return loadConfig(emailEnv, env);
}
