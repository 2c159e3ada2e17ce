/**
 * Creating, changing, deleting and replaying destinations. Inputs are checked with paths into the
 * input (`input.url`, `input.events[2]`); the secret is stored and never read back out.
 */
import {
  EMAIL_EVENT_TYPES,
  InvalidInputError,
  NotFoundError,
  type Identity,
} from '@marketing/platform';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ENROLLMENT_EVENT_TYPES } from './destination.consumer.js';
import { Destination } from './destination.entity.js';
import type { DestinationInput } from './destination.input.js';
import { requeueDead, retryNow } from './destination.queue.js';
import { checkDestinationUrl, type UrlPolicy } from './destination.url.js';

/** Marketing event types destinations can receive; e-commerce track event names are open. */
export const MARKETING_EVENT_TYPES: readonly string[] = [
  ...EMAIL_EVENT_TYPES,
  'segment.entered',
  'segment.exited',
  'prediction.updated',
  ...ENROLLMENT_EVENT_TYPES,
];
const MARKETING_NAMESPACE = /^(email|segment|prediction|enrollment)\./;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class DestinationService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: UrlPolicy,
  ) {}

  list(): Promise<Destination[]> {
    return this.em.find(Destination, {}, { orderBy: { name: 'asc', id: 'asc' } });
  }

  async create(input: DestinationInput, viewer: Identity): Promise<Destination> {
    const checked = this.check(input);
    if (input.secret == null) throw new InvalidInputError('is required', 'input.secret');
    await this.checkNameFree(checked.name);
    const destination = this.em.create(Destination, {
      id: crypto.randomUUID(),
      ...checked,
      secret: checkSecret(input.secret),
      failureCount: 0,
      createdBy: viewer.sub,
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    await this.save(destination);
    return destination;
  }

  async update(id: string, input: DestinationInput): Promise<Destination> {
    const destination = await this.find(id);
    const checked = this.check(input);
    await this.checkNameFree(checked.name, id);
    Object.assign(destination, checked, { updatedAt: new Date() });
    if (input.secret != null) destination.secret = checkSecret(input.secret);
    destination.pausedUntil = null;
    await this.save(destination);
    // A changed destination (a fixed URL or key) is tried again at once.
    await retryNow(this.em, id);
    return destination;
  }

  async delete(id: string): Promise<boolean> {
    const destination = await this.find(id);
    // Its queue and dead letters go with it (foreign key cascade).
    await this.em.remove(destination).flush();
    return true;
  }

  /** Re-queues the destination's dead-lettered deliveries; returns how many. */
  async replay(id: string): Promise<number> {
    await this.find(id);
    return requeueDead(this.em, id);
  }

  private async find(id: string): Promise<Destination> {
    const destination = UUID.test(id) ? await this.em.findOne(Destination, { id }) : null;
    if (!destination) throw new NotFoundError('Destination', id);
    return destination;
  }

  private check(input: DestinationInput) {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 200)
      throw new InvalidInputError('must be 1 to 200 characters', 'input.name');
    return {
      name,
      kind: input.kind,
      url: checkDestinationUrl(input.url, input.kind, this.policy),
      events: checkEvents(input.events ?? []),
      enabled: input.enabled ?? true,
    };
  }

  private async checkNameFree(name: string, exceptId?: string) {
    const taken = await this.em.count(Destination, {
      name,
      ...(exceptId ? { id: { $ne: exceptId } } : {}),
    });
    if (taken) throw new InvalidInputError('another destination has this name', 'input.name');
  }

  private async save(destination: Destination) {
    try {
      await this.em.persist(destination).flush();
    } catch (error) {
      // Two saves of the same name at once: the unique index decides.
      if (error instanceof UniqueConstraintViolationException)
        throw new InvalidInputError('another destination has this name', 'input.name');
      throw error;
    }
  }
}

function checkSecret(secret: string): string {
  if (secret.length === 0)
    throw new InvalidInputError(
      'must not be empty (omit it to keep the current one)',
      'input.secret',
    );
  if (secret.length > 1_000)
    throw new InvalidInputError('must be at most 1000 characters', 'input.secret');
  return secret;
}

function checkEvents(events: string[]): string[] {
  const seen = new Set<string>();
  events.forEach((raw, i) => {
    const type = raw.trim();
    const path = `input.events[${i}]`;
    if (type.length === 0 || type.length > 200)
      throw new InvalidInputError('must be 1 to 200 characters', path);
    if (MARKETING_NAMESPACE.test(type) && !MARKETING_EVENT_TYPES.includes(type))
      throw new InvalidInputError(
        `unknown event type; marketing events are ${MARKETING_EVENT_TYPES.join(', ')}`,
        path,
      );
    seen.add(type);
  });
  return [...seen];
}
