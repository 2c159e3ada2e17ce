/**
 * Event ingestion at the public origin: POST /v1/identify, /v1/track and /v1/batch (Segment HTTP
 * Tracking API compatible). Every message is validated; good ones are published to the
 * `ecommerce.events` stream before the response, so a 2xx means nothing can be lost. A bad message
 * is named with what is wrong and never stored; the good messages of its batch are still taken.
 */
import {
  ECOMMERCE_EVENTS_SUBJECT,
  MAX_BATCH_BYTES,
  MAX_MESSAGE_BYTES,
  parseSegmentMessage,
  type EventBus,
  type IngestedMessage,
  type Logger,
  type MessageError,
  type ServiceMetrics,
} from '@marketing/platform';
import express, { type ErrorRequestHandler, type Request, type Response, Router } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { requireWriteKey } from './write-key.js';

interface Rejected {
  index: number;
  messageId?: string;
  errors: MessageError[];
}

export function ingestionRouter(options: {
  bus: EventBus;
  writeKey: string;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Requests per second for the write key (per gateway replica). */
  requestsPerSecond?: number;
}): Router {
  const router = Router();
  const limiter = new RateLimiterMemory({
    points: options.requestsPerSecond ?? 2_000,
    duration: 1,
  });
  const rateLimit = async (_req: Request, res: Response, next: () => void) => {
    try {
      // One write key per deployment: the key is the identity being limited.
      await limiter.consume('write-key');
      next();
    } catch (rejection) {
      const ms = (rejection as { msBeforeNext?: number }).msBeforeNext ?? 1_000;
      options.metrics.messages.inc({ stage: 'ingest', result: 'rate_limited' });
      res
        .status(429)
        .set('Retry-After', String(Math.max(1, Math.ceil(ms / 1_000))))
        .json({
          success: false,
          code: 'RATE_LIMITED',
          error: 'Too many requests: nothing was stored, retry',
        });
    }
  };
  const publish = async (res: Response, messages: IngestedMessage[]): Promise<boolean> => {
    try {
      await options.bus.publish(
        messages.map((m) => ({ id: m.messageId, subject: ECOMMERCE_EVENTS_SUBJECT, data: m })),
      );
      options.metrics.messages.inc({ stage: 'ingest', result: 'accepted' }, messages.length);
      return true;
    } catch (error) {
      options.logger.error({ err: error }, 'ingestion: the event stream is unavailable');
      res
        .status(503)
        .set('Retry-After', '5')
        .json({ success: false, error: 'Event stream unavailable: nothing was stored, retry' });
      return false;
    }
  };

  const single = (type: 'identify' | 'track') => async (req: Request, res: Response) => {
    const result = parseSegmentMessage(req.body, { type });
    if (!result.ok) {
      options.metrics.messages.inc({ stage: 'ingest', result: 'rejected' });
      res.status(400).json({ success: false, errors: result.errors });
      return;
    }
    if (await publish(res, [result.message]))
      res.json({ success: true, messageId: result.message.messageId });
  };

  const batch = async (req: Request, res: Response) => {
    const items: unknown = (req.body as { batch?: unknown } | undefined)?.batch;
    if (!Array.isArray(items)) {
      res.status(400).json({
        success: false,
        errors: [{ path: 'batch', message: 'must be an array of messages' }],
      });
      return;
    }
    const receivedAt = new Date();
    const accepted: IngestedMessage[] = [];
    const rejected: Rejected[] = [];
    items.forEach((item, index) => {
      const result = parseSegmentMessage(item, { path: `batch[${index}]`, receivedAt });
      if (result.ok) accepted.push(result.message);
      else rejected.push({ index, messageId: messageIdOf(item), errors: result.errors });
    });
    if (rejected.length > 0)
      options.metrics.messages.inc({ stage: 'ingest', result: 'rejected' }, rejected.length);
    if (accepted.length > 0 && !(await publish(res, accepted))) return;
    res
      .status(rejected.length > 0 ? 400 : 200)
      .json({ success: rejected.length === 0, accepted: accepted.length, rejected });
  };

  router.use('/v1', requireWriteKey(options.writeKey), rateLimit);
  const json = (limit: number) => express.json({ limit, type: ['application/json', 'text/plain'] });
  router.post('/v1/identify', json(MAX_MESSAGE_BYTES), single('identify'));
  router.post('/v1/track', json(MAX_MESSAGE_BYTES), single('track'));
  router.post('/v1/batch', json(MAX_BATCH_BYTES), batch);
  router.use('/v1', bodyErrors);
  return router;
}

function messageIdOf(item: unknown): string | undefined {
  const id = (item as { messageId?: unknown } | null)?.messageId;
  return typeof id === 'string' ? id : undefined;
}

/** Body-parser failures become 4xx answers that say what is wrong; nothing else leaks. */
const bodyErrors: ErrorRequestHandler = (
  error: { type?: string; limit?: number; message?: string },
  _req,
  res,
  next,
) => {
  if (error.type === 'entity.too.large') {
    res
      .status(413)
      .json({ success: false, error: `Payload too large: the limit is ${error.limit} bytes` });
  } else if (error.type === 'entity.parse.failed') {
    res.status(400).json({ success: false, error: `Malformed JSON: ${error.message}` });
  } else if (error.type === 'encoding.unsupported' || error.type === 'charset.unsupported') {
    res.status(415).json({ success: false, error: error.message });
  } else {
    next(error);
  }
};
