/**
 * Builds the message for one ledger row: the pinned template version rendered for the recipient
 * (and the triggering event), links rewritten for click tracking, the open pixel, the RFC 8058
 * unsubscribe headers and a Message-ID derived from the dedupe key.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { EmailRuntime } from '../runtime.js';
import { loadVersion, renderForRecipient } from '../template/template.service.js';
import { complianceHeaders, messageIdFor } from '../tracking/headers.js';
import { rewriteLinks, rewriteTextLinks } from '../tracking/links.js';
import type { MessageBuilder } from './sender.js';

export function createMessageBuilder(orm: MikroORM, runtime: EmailRuntime): MessageBuilder {
  const base = runtime.config.PUBLIC_URL.replace(/\/$/, '');
  const domain = senderDomain(runtime.config.MAIL_FROM);
  // A version never changes once saved: each pinned version is read (and compiled) once per
  // process instead of once per message. Misses and errors are not kept.
  const versions = new Map<string, ReturnType<typeof loadVersion>>();
  const pinned = (templateId: string, version: number) => {
    const key = `${templateId}:${version}`;
    let found = versions.get(key);
    if (!found) {
      found = loadVersion(orm.em.fork(), templateId, version);
      found.then(
        (v) => v === null && versions.delete(key),
        () => versions.delete(key),
      );
      if (versions.size >= 1_000) versions.clear();
      versions.set(key, found);
    }
    return found;
  };
  return async (row, recipient, to) => {
    const template = await pinned(row.template_id, row.template_version);
    if (!template) {
      throw new Error(`template ${row.template_id} has no version ${row.template_version}`);
    }
    const unsubscribe = `${base}/u/${runtime.tokens.sign({ kind: 'unsubscribe', customerId: row.customer_id, deliveryId: row.id })}`;
    const rendered = await renderForRecipient(template.compiled, recipient, {
      links: { unsubscribe, preferences: unsubscribe },
      postalAddress: runtime.config.COMPANY_POSTAL_ADDRESS,
      event: row.context,
      campaign: row.campaign_id ? { id: row.campaign_id, variantId: row.variant_id } : null,
    });
    // The text part links to the same URLs as the html: each token is signed once per message.
    const signed = new Map<string, string>();
    const sign: typeof runtime.tokens.sign = (token) => {
      const key = token.kind === 'click' ? `c${token.linkIndex}` : token.kind;
      let value = signed.get(key);
      if (value === undefined) {
        value = runtime.tokens.sign(token);
        signed.set(key, value);
      }
      return value;
    };
    const tracking = {
      baseUrl: base,
      deliveryId: row.id,
      sign,
      untrackedUrls: [unsubscribe],
    };
    const tracked = rewriteLinks(rendered.html, tracking);
    const trackedText = rewriteTextLinks(rendered.text, { ...tracking, links: tracked.links });
    return {
      message: {
        from: runtime.config.MAIL_FROM,
        to,
        subject: rendered.subject,
        html: tracked.html,
        text: trackedText.text,
        messageId: messageIdFor(row.dedupe_key, domain),
        headers: { ...complianceHeaders({ unsubscribeUrl: unsubscribe }) },
      },
      links: trackedText.links,
    };
  };
}

function senderDomain(from: string): string {
  const match = /@([^>\s]+)>?\s*$/.exec(from);
  return match?.[1] ?? 'localhost';
}
