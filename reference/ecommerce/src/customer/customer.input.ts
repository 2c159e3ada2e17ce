/** Inputs for creating and changing customers. */
import { IsEmail, Length, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';

@InputType()
export class CustomerInput {
  @Field(() => ID, { nullable: true, description: 'Defaults to a new UUID' })
  @MaxLength(100)
  id?: string;

  @Field(() => String)
  @IsEmail()
  email!: string;

  @Field(() => String, { nullable: true })
  @MaxLength(200)
  firstName?: string;

  @Field(() => String, { nullable: true })
  @MaxLength(200)
  lastName?: string;

  @Field(() => String, { nullable: true, description: 'ISO 3166-1 alpha-2' })
  @Length(2, 2)
  country?: string;
}
