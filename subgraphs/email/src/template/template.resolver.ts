/** Templates: reading, authoring (marketer and above), previews for a real customer, test sends. */
import { InvalidInputError, requireRole } from '@marketing/platform';
import { GraphQLJSON } from 'graphql-scalars';
import {
  Arg,
  Ctx,
  Field,
  ID,
  InputType,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import type { EmailContext } from '../context.js';
import { SendFailure } from '../delivery/transport.js';
import { EmailTemplate } from './template.entity.js';
import {
  loadRecipient,
  loadVersion,
  renderForRecipient,
  TemplateService,
} from './template.service.js';

@InputType('EmailTemplateInput')
export class EmailTemplateInput {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  subject!: string;

  @Field(() => String, { nullable: true })
  preheader?: string | null;

  @Field(() => String, { nullable: true })
  mjml?: string | null;

  @Field(() => String, { nullable: true })
  html?: string | null;

  @Field(() => String, { nullable: true })
  text?: string | null;
}

@ObjectType('RenderedEmail')
export class RenderedEmailView {
  @Field(() => String)
  subject!: string;

  @Field(() => String)
  html!: string;

  @Field(() => String)
  text!: string;
}

const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

@Resolver(() => EmailTemplate)
export class EmailTemplateResolver {
  @Query(() => EmailTemplate, { nullable: true })
  emailTemplate(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: EmailContext,
  ): Promise<EmailTemplate | null> {
    return ctx.loaders.template.load(id);
  }

  @Query(() => [EmailTemplate])
  emailTemplates(@Ctx() ctx: EmailContext): Promise<EmailTemplate[]> {
    return ctx.em.find(EmailTemplate, {}, { orderBy: { name: 'asc', id: 'asc' }, limit: 1000 });
  }

  @Mutation(() => EmailTemplate)
  createEmailTemplate(
    @Arg('input', () => EmailTemplateInput) input: EmailTemplateInput,
    @Ctx() ctx: EmailContext,
  ): Promise<EmailTemplate> {
    requireRole(ctx.viewer, 'marketer', 'Creating a template');
    return new TemplateService(ctx.em).create(input, ctx.viewer);
  }

  @Mutation(() => EmailTemplate)
  updateEmailTemplate(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => EmailTemplateInput) input: EmailTemplateInput,
    @Ctx() ctx: EmailContext,
  ): Promise<EmailTemplate> {
    requireRole(ctx.viewer, 'marketer', 'Changing a template');
    return new TemplateService(ctx.em).update(id, input, ctx.viewer);
  }

  @Query(() => RenderedEmailView, {
    description: 'The template rendered for a real customer (no tracking, nothing sent)',
  })
  async renderEmail(
    @Arg('templateId', () => ID) templateId: string,
    @Arg('customerId', () => ID) customerId: string,
    @Arg('event', () => GraphQLJSON, {
      nullable: true,
      description: 'Sample data of the triggering event, for templates that read `event`',
    })
    event: Record<string, unknown> | null,
    @Ctx() ctx: EmailContext,
  ): Promise<RenderedEmailView> {
    requireRole(ctx.viewer, 'analyst', 'Previewing an email for a customer');
    const runtime = ctx.loaders.runtime();
    const template = await loadVersion(ctx.em, templateId);
    if (!template) throw new InvalidInputError(`no template with id "${templateId}"`, 'templateId');
    const recipient = await loadRecipient(ctx.em, customerId);
    const preview = `${runtime.config.PUBLIC_URL.replace(/\/$/, '')}/u/preview`;
    if (event != null && (typeof event !== 'object' || Array.isArray(event))) {
      throw new InvalidInputError('must be an object', 'event');
    }
    return renderForRecipient(template.compiled, recipient, {
      links: { unsubscribe: preview, preferences: preview },
      postalAddress: runtime.config.COMPANY_POSTAL_ADDRESS,
      event,
    });
  }

  @Mutation(() => Boolean, {
    description: 'Renders the template for a customer and sends it, marked [TEST], to `to`',
  })
  async sendTestEmail(
    @Arg('templateId', () => ID) templateId: string,
    @Arg('customerId', () => ID) customerId: string,
    @Arg('to', () => String) to: string,
    @Ctx() ctx: EmailContext,
  ): Promise<boolean> {
    requireRole(ctx.viewer, 'marketer', 'Sending a test email');
    if (!EMAIL.test(to) || to.length > 320) {
      throw new InvalidInputError('must be an email address', 'to');
    }
    const runtime = ctx.loaders.runtime();
    const template = await loadVersion(ctx.em, templateId);
    if (!template) throw new InvalidInputError(`no template with id "${templateId}"`, 'templateId');
    const recipient = await loadRecipient(ctx.em, customerId);
    const preview = `${runtime.config.PUBLIC_URL.replace(/\/$/, '')}/u/preview`;
    const rendered = await renderForRecipient(template.compiled, recipient, {
      links: { unsubscribe: preview, preferences: preview },
      postalAddress: runtime.config.COMPANY_POSTAL_ADDRESS,
    });
    const sent = runtime.transport.send({
      from: runtime.config.MAIL_FROM,
      to,
      subject: `[TEST] ${rendered.subject}`,
      html: rendered.html,
      text: rendered.text,
      messageId: `<test-${crypto.randomUUID()}@${runtime.config.MAIL_FROM.replace(/^.*@|>.*$/g, '')}>`,
      headers: {},
    });
    await sent.catch((error: unknown) => {
      if (error instanceof SendFailure && error.kind === 'permanent') {
        throw new InvalidInputError(`the mail server refused it: ${error.message}`, 'to');
      }
      throw error;
    });
    return true;
  }
}
