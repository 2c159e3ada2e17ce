/**
 * Provider webhooks, from raw request to provider-neutral events. For each provider the route
 * authenticates first (`verify...`), then parses the JSON body (`parseJsonBody`, then the
 * provider's parser). Parsers throw only InvalidInputError (400 with its path); verifiers only
 * answer true or false (401).
 */
export { parseJsonBody, type WebhookEvent, type WebhookProvider } from './webhook-event.js';
export {
  cachingCertificateFetcher,
  isSnsUrl,
  parseSnsMessage,
  snsStringToSign,
  verifySnsSignature,
  type CertificateFetcher,
  type SnsMessage,
} from './sns-message.js';
export { parseSesNotification, type SesNotification } from './ses.provider.js';
export {
  parseSendgridEvents,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  sendgridPublicKey,
  verifySendgridSignature,
} from './sendgrid.provider.js';
export {
  GENERIC_SIGNATURE_HEADER,
  GENERIC_TIMESTAMP_HEADER,
  GENERIC_TOLERANCE_SECONDS,
  parseGenericEvents,
  signGenericWebhook,
  verifyGenericSignature,
} from './generic.provider.js';
