import { InvalidInputError } from '@marketing/platform';
import fc from 'fast-check';
import { complianceHeaders, messageIdFor } from './headers.js';

describe('complianceHeaders', () => {
  it('give the RFC 8058 one-click pair for an https unsubscribe URL', () => {
    expect(complianceHeaders({ unsubscribeUrl: 'https://mail.test/u/k1.abc_DEF-1' })).toEqual({
      'List-Unsubscribe': '<https://mail.test/u/k1.abc_DEF-1>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });

  it('add the mailto alternative after the https URI, from an address or a mailto URL', () => {
    const https = 'https://mail.test/u/t';
    expect(complianceHeaders({ unsubscribeUrl: https, mailto: 'unsub@shop.test' })).toEqual({
      'List-Unsubscribe': '<https://mail.test/u/t>, <mailto:unsub@shop.test>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(
      complianceHeaders({
        unsubscribeUrl: https,
        mailto: 'MAILTO:unsub@shop.test?subject=stop%20it',
      })['List-Unsubscribe'],
    ).toBe('<https://mail.test/u/t>, <mailto:unsub@shop.test?subject=stop%20it>');
  });

  it('encode what could break the header: spaces, angle brackets, commas, line breaks', () => {
    const header = complianceHeaders({
      unsubscribeUrl: 'https://mail.test/u/a b?x=<1>,2\r\nBcc: evil@x.test',
    })['List-Unsubscribe'];
    expect(header).toBe('<https://mail.test/u/a%20b?x=%3C1%3E%2C2Bcc:%20evil@x.test>');
  });

  it('accept plain http for a local run', () => {
    expect(
      complianceHeaders({ unsubscribeUrl: 'http://localhost:4000/u/t' })['List-Unsubscribe'],
    ).toBe('<http://localhost:4000/u/t>');
  });

  it.each([
    [{ unsubscribeUrl: 'mailto:x@y.test' }, 'unsubscribeUrl'],
    [{ unsubscribeUrl: '/u/relative' }, 'unsubscribeUrl'],
    [{ unsubscribeUrl: 'https://user:pw@mail.test/u/t' }, 'unsubscribeUrl'],
    [{ unsubscribeUrl: 'https://mail.test/u/t', mailto: 'not an address' }, 'mailto'],
    [{ unsubscribeUrl: 'https://mail.test/u/t', mailto: 'a@b.test, c@d.test' }, 'mailto'],
    [{ unsubscribeUrl: 'https://mail.test/u/t', mailto: 'a@b.test>\r\nBcc: x@y' }, 'mailto'],
  ])('refuse %j with an InvalidInputError at %s', (input, path) => {
    expect(() => complianceHeaders(input)).toThrow(InvalidInputError);
    expect(() => complianceHeaders(input)).toThrow(new RegExp(`^${path}:`));
  });

  it('never put a line break, a stray angle bracket or an unencoded comma in the header (property)', () => {
    fc.assert(
      fc.property(
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        fc.string(),
        (base, tail) => {
          let header: string;
          try {
            header = complianceHeaders({ unsubscribeUrl: base + tail })['List-Unsubscribe'];
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidInputError);
            return;
          }
          expect(header).toMatch(/^<https?:\/\/[^\s<>,]+>$/);
        },
      ),
    );
  });
});

describe('messageIdFor', () => {
  it('derive the same RFC 5322 Message-ID from the same dedupe key, another from another', () => {
    const id = messageIdFor('campaign:c1:customer:42', 'Shop.Test');
    expect(id).toMatch(/^<[0-9a-f]{32}@shop\.test>$/);
    expect(messageIdFor('campaign:c1:customer:42', 'shop.test')).toBe(id);
    expect(messageIdFor('campaign:c1:customer:43', 'shop.test')).not.toBe(id);
  });

  it('stay compatible with the Message-IDs of deliveries already sent', () => {
    // sha256('k') = 8254c329a92850f6d539dd376f4816ee2764517da5e0235514af433164480d7a
    expect(messageIdFor('k', 'localhost')).toBe('<8254c329a92850f6d539dd376f4816ee@localhost>');
  });

  it.each([
    ['', 'shop.test', 'dedupeKey'],
    ['k', '', 'domain'],
    ['k', 'shop test', 'domain'],
    ['k', 'shop.test>', 'domain'],
    ['k', '-shop.test', 'domain'],
  ])('refuse the key %j with the domain %j', (key, domain, path) => {
    expect(() => messageIdFor(key, domain)).toThrow(new RegExp(`^${path}:`));
  });
});
