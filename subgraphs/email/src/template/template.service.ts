/**
 * Authoring templates: every save is validated (Liquid and MJML, with positions in errors) and
 * kept as a new immutable version; a campaign pins a version. Rendering for a real customer uses
 * the recipient projection (`customer.*`) and, for a preview, no event unless one is given.
 */
import {
  addToOutbox,
  InvalidInputError,
  TEMPLATE_EVENTS_SUBJECT,
  NotFoundError,
  queryWithParams,
  type Identity,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import mjml2html from 'mjml';
import type { Recipient } from '../delivery/sender.js';
import {
  compileTemplate,
  renderTemplate,
  type CompiledTemplate,
  type RenderedEmail,
  type TemplateSource,
} from './render.js';
import { EmailTemplate, EmailTemplateVersion } from './template.entity.js';

export interface TemplateInputData {
  name: string;
  subject: string;
  preheader?: string | null;
  mjml?: string | null;
  html?: string | null;
  text?: string | null;
}

export interface RenderLinks {
  unsubscribe: string;
  preferences: string;
}

/** Compiled versions, shared by every render in the process (versions never change). */
const compiledVersions = new Map<string, CompiledTemplate>();

export class TemplateService {
  constructor(private readonly em: EntityManager) {}

  async create(input: TemplateInputData, viewer: Identity): Promise<EmailTemplate> {
    const source = await checkedSource(input);
    return this.em.transactional(async (em) => {
      const template = em.create(EmailTemplate, {
        id: crypto.randomUUID(),
        name: checkName(input.name),
        ...source,
        version: 1,
        createdAt: new Date(),
        updatedAt: new Date(),
      });
      em.persist(template);
      em.persist(versionOf(em, template, viewer));
      announce(em, template);
      await em.flush();
      return template;
    });
  }

  async update(id: string, input: TemplateInputData, viewer: Identity): Promise<EmailTemplate> {
    const source = await checkedSource(input);
    return this.em.transactional(async (em) => {
      const template = await em.findOne(
        EmailTemplate,
        { id },
        { lockMode: 4 /* pessimistic write */ },
      );
      if (!template) throw new NotFoundError('EmailTemplate', id);
      Object.assign(template, source, { name: checkName(input.name), updatedAt: new Date() });
      template.version += 1;
      em.persist(versionOf(em, template, viewer));
      announce(em, template);
      await em.flush();
      return template;
    });
  }
}

/** The compiled template of one version; null when the template or version does not exist. */
export async function loadVersion(
  em: EntityManager,
  templateId: string,
  version?: number | null,
): Promise<{ version: number; compiled: CompiledTemplate } | null> {
  const [row] = await queryWithParams<{ version: number } & TemplateSource>(
    em,
    `select v.version, v.subject, v.preheader, v.mjml, v.html, v.text
     from email.email_template_version v join email.email_template t on t.id = v.template_id
     where v.template_id = $1 and v.version = coalesce($2::int, t.version)`,
    [templateId, version ?? null],
  );
  if (!row) return null;
  const key = `${templateId}:${row.version}`;
  let compiled = compiledVersions.get(key);
  if (!compiled) {
    compiled = compileTemplate(row);
    if (compiledVersions.size > 1_000) compiledVersions.clear();
    compiledVersions.set(key, compiled);
  }
  return { version: row.version, compiled };
}

/** What templates see as `customer`: the recipient's fields and every identify trait. */
export function customerVariables(recipient: Recipient): Record<string, unknown> {
  return {
    ...recipient.traits,
    id: recipient.customer_id,
    email: recipient.email,
    firstName: recipient.first_name,
    lastName: recipient.last_name,
    timezone: recipient.timezone,
  };
}

export async function renderForRecipient(
  compiled: CompiledTemplate,
  recipient: Recipient,
  options: {
    links: RenderLinks;
    postalAddress: string;
    event?: Record<string, unknown> | null;
    campaign?: Record<string, unknown> | null;
  },
): Promise<RenderedEmail> {
  return renderTemplate(compiled, {
    customer: customerVariables(recipient),
    event: options.event ?? null,
    campaign: options.campaign ?? null,
    links: options.links,
    company: { postalAddress: options.postalAddress },
  });
}

export async function loadRecipient(em: EntityManager, customerId: string): Promise<Recipient> {
  const [row] = await queryWithParams<Recipient>(
    em,
    `select customer_id, email, first_name, last_name, timezone, traits from email.email_recipient where customer_id = $1`,
    [customerId],
  );
  if (!row) throw new NotFoundError('Customer', customerId);
  return row;
}

async function checkedSource(input: TemplateInputData) {
  const source: TemplateSource = {
    subject: input.subject,
    preheader: input.preheader ?? null,
    mjml: input.mjml ?? null,
    html: input.html ?? null,
    text: input.text ?? null,
  };
  compileTemplate(source);
  return {
    subject: source.subject,
    preheader: source.preheader,
    mjml: source.mjml,
    // For an MJML template, `html` shows the MJML compiled once with its Liquid left in place.
    html: source.mjml ? await mjmlPreview(source.mjml) : (source.html ?? ''),
    text: source.text,
  };
}

async function mjmlPreview(source: string): Promise<string> {
  try {
    return (await mjml2html(source, { validationLevel: 'skip' })).html;
  } catch {
    return '';
  }
}

/** Tells the Campaign Manager which version is current (it pins one when a campaign is saved). */
function announce(em: EntityManager, template: EmailTemplate) {
  addToOutbox(em, [
    {
      id: `template.saved:${template.id}:${template.version}`,
      subject: TEMPLATE_EVENTS_SUBJECT,
      data: {
        type: 'template.saved',
        templateId: template.id,
        version: template.version,
        name: template.name,
        savedAt: template.updatedAt.toISOString(),
      },
    },
  ]);
}

function versionOf(em: EntityManager, template: EmailTemplate, viewer: Identity) {
  return em.create(EmailTemplateVersion, {
    templateId: template.id,
    version: template.version,
    subject: template.subject,
    preheader: template.preheader ?? null,
    mjml: template.mjml ?? null,
    html: template.mjml ? null : template.html,
    text: template.text ?? null,
    createdBy: viewer.sub,
    createdAt: new Date(),
  });
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200) {
    throw new InvalidInputError('must be 1 to 200 characters', 'input.name');
  }
  return trimmed;
}
