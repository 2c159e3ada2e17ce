/** Customer records of the reference e-commerce platform. */
import { randomUUID } from 'node:crypto';
import { addToOutbox, ConflictError, NotFoundError } from '@marketing/platform';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { identifyCustomer } from '../events/ecommerce.events.js';
import { Customer } from './customer.entity.js';
import type { CustomerInput } from './customer.input.js';

export class CustomerService {
  constructor(private readonly em: EntityManager) {}

  async create(input: CustomerInput): Promise<Customer> {
    const customer = this.em.create(Customer, {
      id: input.id ?? randomUUID(),
      email: input.email.toLowerCase(),
      firstName: input.firstName ?? null,
      lastName: input.lastName ?? null,
      country: input.country?.toUpperCase() ?? null,
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    addToOutbox(this.em, [identifyCustomer(customer, customer.createdAt)]);
    await this.flushUnique();
    return customer;
  }

  async update(id: string, input: CustomerInput): Promise<Customer> {
    const customer = await this.em.findOne(Customer, { id });
    if (!customer) throw new NotFoundError('Customer', id);
    customer.email = input.email.toLowerCase();
    customer.firstName = input.firstName ?? null;
    customer.lastName = input.lastName ?? null;
    customer.country = input.country?.toUpperCase() ?? null;
    customer.updatedAt = new Date();
    addToOutbox(this.em, [identifyCustomer(customer, customer.updatedAt)]);
    await this.flushUnique();
    return customer;
  }

  private async flushUnique(): Promise<void> {
    try {
      await this.em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw new ConflictError('A customer with this id or email already exists');
      }
      throw error;
    }
  }
}
