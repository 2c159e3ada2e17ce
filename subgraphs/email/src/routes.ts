/**
 * The email service's public HTTP routes (the gateway forwards them from the public origin):
 * open pixel, click redirect, one-click unsubscribe (RFC 8058), the preference page and the
 * provider webhooks. Tokens are signed; anything unknown or tampered is a 404 (a pixel still
 * answers with the image and records nothing).
 */
import { EMAIL_EVENTS_SUBJECT, queryWithParams, type SubgraphDeps } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import express, { type Express, type Response } from 'express';
import { changePreferences } from './preferences/preferences.service.js';
import type { EmailRuntime } from './runtime.js';
import { isOneClickUnsubscribe } from './tracking/one-click.js';
import { webhookRouter } from './webhooks/webhook.routes.js';

const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

export function emailRoutes(runtime: EmailRuntime) {
  return (app: Express, deps: SubgraphDeps) => {
    const transaction = <T>(work: (em: EntityManager) => Promise<T>) =>
      deps.orm.em.fork().transactional(work);

    app.get('/t/o/:token', async (req, res, next) => {
      try {
        const token = runtime.tokens.verify(req.params.token, 'open');
        if (token) await transaction((em) => recordEngagement(em, token.deliveryId, 'opened'));
        noStore(res);
        res.type('image/gif').send(PIXEL);
      } catch (error) {
        next(error);
      }
    });

    app.get('/t/c/:token', async (req, res, next) => {
      try {
        const token = runtime.tokens.verify(req.params.token, 'click');
        const url = token
          ? await transaction(async (em) => {
              const [link] = await queryWithParams<{ url: string }>(
                em,
                `select url from email.email_link where delivery_id = $1 and link_index = $2`,
                [token.deliveryId, token.linkIndex],
              );
              if (link) await recordEngagement(em, token.deliveryId, 'clicked', token.linkIndex);
              return link?.url ?? null;
            })
          : null;
        noStore(res);
        if (!url) {
          res.status(404).type('text/plain').send('This link is not valid.');
          return;
        }
        res.redirect(302, url);
      } catch (error) {
        next(error);
      }
    });

    app.get('/u/:token', async (req, res, next) => {
      try {
        const token = runtime.tokens.verify(req.params.token, 'unsubscribe');
        noStore(res);
        if (!token) {
          res.status(404).type('text/plain').send('This link is not valid.');
          return;
        }
        const em = deps.orm.em.fork();
        const [consent] = await queryWithParams<{ subscribed: boolean }>(
          em,
          `select subscribed from email.email_consent where customer_id = $1`,
          [token.customerId],
        );
        const topics = await queryWithParams<{ topic: string; subscribed: boolean }>(
          em,
          `select topic, subscribed from email.topic_subscription where customer_id = $1 order by topic`,
          [token.customerId],
        );
        res
          .type('text/html')
          .send(preferencePage(req.params.token, consent?.subscribed ?? false, topics, runtime));
      } catch (error) {
        next(error);
      }
    });

    app.post(
      '/u/:token',
      express.raw({ type: () => true, limit: '16kb' }),
      async (req, res, next) => {
        try {
          const token = runtime.tokens.verify(req.params.token, 'unsubscribe');
          noStore(res);
          if (!token) {
            res.status(404).type('text/plain').send('This link is not valid.');
            return;
          }
          const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
          const contentType = req.header('content-type') ?? '';
          const context = await deliveryContext(deps.orm.em.fork(), token.deliveryId);
          if (isOneClickUnsubscribe(contentType, body)) {
            await transaction((em) =>
              changePreferences(
                em,
                token.customerId,
                { subscribed: false, source: 'one-click unsubscribe (RFC 8058)' },
                'customer',
                context,
              ),
            );
            res.status(200).type('text/plain').send('You are unsubscribed.');
            return;
          }
          // The preference page's form.
          const form = new URLSearchParams(body);
          if (!form.has('action')) {
            res.status(400).type('text/plain').send('Unknown request.');
            return;
          }
          const topics = form
            .getAll('topic')
            .map((t) => ({ topic: t, subscribed: form.get(`topic:${t}`) === 'on' }));
          await transaction((em) =>
            changePreferences(
              em,
              token.customerId,
              { subscribed: form.get('action') === 'subscribe', topics, source: 'preference page' },
              'customer',
              context,
            ),
          );
          res.status(200).type('text/plain').send('Your preferences are saved.');
        } catch (error) {
          next(error);
        }
      },
    );

    app.use('/webhooks/email', webhookRouter(runtime, deps));
  };
}

function noStore(res: Response) {
  res.setHeader('cache-control', 'no-store, no-cache, must-revalidate, max-age=0');
  res.setHeader('pragma', 'no-cache');
  res.setHeader('expires', '0');
  res.setHeader('referrer-policy', 'no-referrer');
}

async function deliveryContext(em: EntityManager, deliveryId: string | null | undefined) {
  if (!deliveryId) return {};
  const [row] = await queryWithParams<{ campaign_id: string | null }>(
    em,
    `select campaign_id from email.email_delivery where id = $1`,
    [deliveryId],
  );
  return row ? { deliveryId, campaignId: row.campaign_id } : {};
}

/**
 * Counts an open or a click on a delivery (total and first) and publishes it, in one statement.
 * Test sends are not tracked.
 */
async function recordEngagement(
  em: EntityManager,
  deliveryId: string,
  kind: 'opened' | 'clicked',
  linkIndex?: number,
) {
  const counter = kind === 'opened' ? 'open_count' : 'click_count';
  const first = kind === 'opened' ? 'first_opened_at' : 'first_clicked_at';
  await queryWithParams(
    em,
    `with d as (
       update email.email_delivery set ${counter} = ${counter} + 1, ${first} = coalesce(${first}, now())
       where id = $1 and status in ('SENDING', 'SENT', 'DELIVERED')
       returning id, customer_id, campaign_id, variant_id, ${counter} as n
     )
     insert into email.outbox (subject, message_id, data, created_at)
     select $2, 'email.${kind}:' || id || ':' || n, jsonb_build_object('type', 'email.${kind}',
       'customerId', customer_id, 'deliveryId', id, 'campaignId', campaign_id, 'variantId', variant_id,
       'occurredAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       'unique', n = 1${kind === 'clicked' ? ", 'linkIndex', $3::int" : ''}), now()
     from d`,
    kind === 'clicked'
      ? [deliveryId, EMAIL_EVENTS_SUBJECT, linkIndex]
      : [deliveryId, EMAIL_EVENTS_SUBJECT],
  );
}

function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** The preference page: shows the state and offers the choices; only its form changes anything. */
function preferencePage(
  token: string,
  subscribed: boolean,
  topics: { topic: string; subscribed: boolean }[],
  runtime: EmailRuntime,
): string {
  const action = `/u/${encodeURIComponent(token)}`;
  const topicRows = topics
    .map(
      (t) =>
        `<label><input type="hidden" name="topic" value="${escapeHtml(t.topic)}"><input type="checkbox" name="topic:${escapeHtml(t.topic)}"${t.subscribed ? ' checked' : ''}> ${escapeHtml(t.topic)}</label><br>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>Email preferences</title></head>
<body style="font-family:sans-serif;max-width:36rem;margin:2rem auto">
<h1>Email preferences</h1>
<p>You are currently <strong>${subscribed ? 'subscribed to' : 'not subscribed to'}</strong> marketing email.</p>
<form method="post" action="${action}">
${topicRows}
<button type="submit" name="action" value="unsubscribe">Unsubscribe from all marketing email</button>
<button type="submit" name="action" value="subscribe">Keep me subscribed</button>
</form>
<p style="color:#666;font-size:small">${escapeHtml(runtime.config.COMPANY_POSTAL_ADDRESS)}</p>
</body></html>`;
}
