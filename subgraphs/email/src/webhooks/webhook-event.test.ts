import { InvalidInputError } from '@marketing/platform';
import { addressAt, instantAt, joinPath, messageIdOf, parseJsonBody } from './webhook-event.js';

describe('webhook event helpers', () => {
  it('parse a JSON body from text or bytes, and refuse anything else at body', () => {
    expect(parseJsonBody('{"a":[1]}')).toEqual({ a: [1] });
    expect(parseJsonBody(Buffer.from('[true]'))).toEqual([true]);
    expect(() => parseJsonBody('{')).toThrow(new InvalidInputError('must be JSON', 'body'));
    expect(() => parseJsonBody('')).toThrow(InvalidInputError);
  });

  it('write paths the way a reader finds the value', () => {
    expect(joinPath('body', ['events', 0, 'type'])).toBe('body.events[0].type');
    expect(joinPath('body', [3, 'smtp-id'])).toBe('body[3]["smtp-id"]');
  });

  it('normalise Message-IDs to angle brackets and drop unusable ones', () => {
    expect(messageIdOf('abc@shop.test')).toBe('<abc@shop.test>');
    expect(messageIdOf(' <abc@shop.test> ')).toBe('<abc@shop.test>');
    expect(messageIdOf('')).toBeUndefined();
    expect(messageIdOf('<>')).toBeUndefined();
    expect(messageIdOf('a b@c')).toBeUndefined();
    expect(messageIdOf(null)).toBeUndefined();
  });

  it('read addresses bare or with a display name', () => {
    expect(addressAt(' ann@example.test ', 'p')).toBe('ann@example.test');
    expect(addressAt('"Ann Lee" <ann@example.test>', 'p')).toBe('ann@example.test');
    expect(() => addressAt('ann', 'x.y')).toThrow(
      new InvalidInputError('must be an email address', 'x.y'),
    );
  });

  it('read ISO timestamps and Unix seconds, and refuse other units and nonsense', () => {
    expect(instantAt('2026-03-01T13:00:00+01:00', 'p')).toBe('2026-03-01T12:00:00.000Z');
    expect(instantAt(1_772_366_400, 'p')).toBe('2026-03-01T12:00:00.000Z');
    expect(() => instantAt(1_772_366_400_000, 'p')).toThrow(InvalidInputError);
    expect(() => instantAt('soon', 'p')).toThrow(InvalidInputError);
  });
});
