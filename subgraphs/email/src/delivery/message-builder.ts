/**
 * Builds the message for one ledger row: the pinned template version rendered for the recipient
 * (and the triggering event), links rewritten for click tracking, the open pixel, the RFC 8058
 * unsubscribe headers and a Message-ID derived from the dedupe key.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { EmailRuntime } from '../runtime.js';
import { loadVersion, renderForRecipient } from '../template/template.service.js';
import type { MessageBuilder } from './sender.js';
import { complianceHeaders, messageIdFor, rewriteLinks, rewriteTextLinks } from './tracking.js';

export function createMessageBuilder(orm: MikroORM, runtime: EmailRuntime): MessageBuilder {
  const base = runtime.config.PUBLIC_URL.replace(/\/$/, '');
  const domain = senderDomain(runtime.fromAddress);
  return async (row, recipient, to) => {
    const template = await loadVersion(orm.em.fork(), row.template_id, row.template_version);
    if (!template) {
      throw new Error(`template ${row.template_id} has no version ${row.template_version}`);
    }
    const unsubscribe = `${base}/u/${runtime.tokens.unsubscribe({ customerId: row.customer_id, deliveryId: row.id })}`;
    const rendered = await renderForRecipient(template.compiled, recipient, {
      links: { unsubscribe, preferences: unsubscribe },
      postalAddress: runtime.config.COMPANY_POSTAL_ADDRESS,
      event: row.context,
      campaign: row.campaign_id ? { id: row.campaign_id, variantId: row.variant_id } : null,
    });
    let html = rendered.html;
    let text = rendered.text;
    let links: string[] = [];
    if (!row.test) {
      const tracked = rewriteLinks(html, {
        baseUrl: base,
        deliveryId: row.id,
        tokens: runtime.tokens,
        skip: [unsubscribe],
      });
      html = tracked.html;
      links = tracked.links;
      text = rewriteTextLinks(text, {
        baseUrl: base,
        deliveryId: row.id,
        tokens: runtime.tokens,
        links,
        skip: [unsubscribe],
      });
    }
    return {
      message: {
        from: runtime.fromAddress,
        to,
        subject: row.test ? `[TEST] ${rendered.subject}` : rendered.subject,
        html,
        text,
        messageId: messageIdFor(row.dedupe_key, domain),
        headers: complianceHeaders({ unsubscribeUrl: unsubscribe }),
      },
      links,
    };
  };
}

function senderDomain(from: string): string {
  const match = /@([^>\s]+)>?\s*$/.exec(from);
  return match?.[1] ?? 'localhost';
}
