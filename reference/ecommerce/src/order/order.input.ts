/** Input for placing an order. */
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsISO4217CurrencyCode,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';

@InputType()
export class OrderLineInput {
  @Field(() => ID)
  productId!: string;

  @Field(() => Int)
  @Min(1)
  @Max(10_000)
  quantity!: number;
}

@InputType()
export class PlaceOrderInput {
  @Field(() => ID, { nullable: true, description: 'Defaults to a new UUID' })
  id?: string;

  @Field(() => ID)
  customerId!: string;

  @Field(() => [OrderLineInput])
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  lines!: OrderLineInput[];

  @Field(() => String, { defaultValue: 'EUR', nullable: true })
  @IsISO4217CurrencyCode()
  currency!: string;

  @Field(() => Date, { nullable: true, description: 'Defaults to now' })
  placedAt?: Date;
}
