/** Email templates: MJML or HTML with Liquid, versioned (a campaign pins a version). */
import { Entity, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType('EmailTemplate')
@Directive('@key(fields: "id")')
@Entity({ tableName: 'email_template' })
export class EmailTemplate {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Field(() => String)
  @Property({ type: 'text' })
  name!: string;

  @Field(() => String, { description: 'Liquid' })
  @Property({ type: 'text' })
  subject!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  preheader?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'MJML + Liquid source; html is rendered from it when set',
  })
  @Property({ type: 'text', nullable: true })
  mjml?: string | null;

  @Field(() => String, { description: 'Liquid source (or rendered MJML)' })
  @Property({ type: 'text' })
  html!: string;

  @Field(() => String, { nullable: true, description: 'Generated from html when not given' })
  @Property({ type: 'text', nullable: true })
  text?: string | null;

  @Field(() => Int)
  @Property({ type: 'integer' })
  version: number = 1;

  @Field(() => Date)
  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Field(() => Date)
  @Property({ type: 'datetime' })
  updatedAt: Date = new Date();
}

/** Every saved version of a template, immutable: a campaign pins one. */
@Entity({ tableName: 'email_template_version' })
@Unique({ properties: ['templateId', 'version'] })
export class EmailTemplateVersion {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'uuid' })
  templateId!: string;

  @Property({ type: 'integer' })
  version!: number;

  @Property({ type: 'text' })
  subject!: string;

  @Property({ type: 'text', nullable: true })
  preheader?: string | null;

  @Property({ type: 'text', nullable: true })
  mjml?: string | null;

  @Property({ type: 'text', nullable: true })
  html?: string | null;

  @Property({ type: 'text', nullable: true })
  text?: string | null;

  @Property({ type: 'text' })
  createdBy!: string;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}
