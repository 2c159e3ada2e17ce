/**
 * What the email service builds once from its configuration and shares between the GraphQL
 * resolvers, the routes and the workers: the mail transport, the token signer and the links.
 */
import { createHash } from 'node:crypto';
import type { EmailConfig } from './config.js';
import { createMailTransport, type MailTransport } from './delivery/transport.js';
import { createTokenCodec, type TokenCodec } from './tracking/tokens.js';

export interface EmailRuntime {
  config: EmailConfig;
  transport: MailTransport;
  /** Signs and verifies tracking and unsubscribe tokens (rotating keys). */
  tokens: TokenCodec;
}

export function createEmailRuntime(config: EmailConfig): EmailRuntime {
  const primary =
    config.EMAIL_TOKEN_SECRET ??
    createHash('sha256').update(`email-tokens:${config.GATEWAY_PROOF_SECRET}`).digest('hex');
  const previous = (config.EMAIL_TOKEN_PREVIOUS_SECRETS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const dkim =
    config.DKIM_DOMAIN && config.DKIM_SELECTOR && config.DKIM_PRIVATE_KEY
      ? {
          domainName: config.DKIM_DOMAIN,
          keySelector: config.DKIM_SELECTOR,
          privateKey: config.DKIM_PRIVATE_KEY.replace(/\\n/g, '\n'),
        }
      : undefined;
  return {
    config,
    transport: createMailTransport({
      smtpUrl: config.SMTP_URL,
      mailDir: config.MAIL_DIR,
      maxConnections: config.EMAIL_SMTP_CONNECTIONS,
      dkim,
    }),
    tokens: createTokenCodec([primary, ...previous]),
  };
}
