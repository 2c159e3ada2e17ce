/** Reading templates. Authoring and rendering come with the Email Campaign Service's domain work. */
import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { EmailContext } from '../context.js';
import { EmailTemplate } from './template.entity.js';

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
}
