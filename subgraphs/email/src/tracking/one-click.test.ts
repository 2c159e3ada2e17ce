import fc from 'fast-check';
import { isOneClickUnsubscribe } from './one-click.js';

const FORM = 'application/x-www-form-urlencoded';

function multipart(boundary: string, fields: [string, string][], newline = '\r\n'): string {
  return (
    fields
      .map(
        ([name, value]) =>
          `--${boundary}${newline}Content-Disposition: form-data; name="${name}"${newline}${newline}${value}${newline}`,
      )
      .join('') + `--${boundary}--${newline}`
  );
}

describe('isOneClickUnsubscribe', () => {
  it.each([
    ['the exact RFC 8058 body', FORM, 'List-Unsubscribe=One-Click'],
    [
      'a charset parameter and a trailing newline',
      `${FORM}; charset=UTF-8`,
      'List-Unsubscribe=One-Click\r\n',
    ],
    ['other case', 'Application/X-WWW-Form-Urlencoded', 'list-unsubscribe=one-click'],
    ['surrounding whitespace', FORM, '  List-Unsubscribe = One-Click  '],
    ['percent-encoding', FORM, 'List%2DUnsubscribe=One%2DClick'],
    ['other fields besides', FORM, 'foo=bar&List-Unsubscribe=One-Click'],
    [
      'multipart/form-data',
      'multipart/form-data; boundary=----x1',
      multipart('----x1', [['List-Unsubscribe', 'One-Click']]),
    ],
    [
      'multipart with a quoted boundary, LF newlines and another field',
      'multipart/form-data; boundary="b x"',
      multipart(
        'b x',
        [
          ['other', 'v'],
          ['list-unsubscribe', 'one-click'],
        ],
        '\n',
      ),
    ],
    [
      'multipart without a boundary parameter',
      'multipart/form-data',
      multipart('zz', [['List-Unsubscribe', 'One-Click']]),
    ],
  ])('accept %s', (_name, contentType, body) => {
    expect(isOneClickUnsubscribe(contentType, body)).toBe(true);
    expect(isOneClickUnsubscribe(contentType, Buffer.from(body))).toBe(true);
  });

  it.each([
    ['a JSON body', 'application/json', '{"List-Unsubscribe":"One-Click"}'],
    ['a text body', 'text/plain', 'List-Unsubscribe=One-Click'],
    ['no content type', undefined, 'List-Unsubscribe=One-Click'],
    ['an empty body', FORM, ''],
    ['no body', FORM, undefined],
    ['another value', FORM, 'List-Unsubscribe=Yes'],
    ['another key', FORM, 'Unsubscribe=One-Click'],
    ['the preference form', FORM, 'action=unsubscribe&topic=news'],
    ['a value run into another word', FORM, 'List-Unsubscribe=One-Clicks'],
    [
      'multipart with another field only',
      'multipart/form-data; boundary=b',
      multipart('b', [['action', 'List-Unsubscribe=One-Click']]),
    ],
    [
      'multipart after its closing delimiter',
      'multipart/form-data; boundary=b',
      `--b--\r\n${multipart('b', [['List-Unsubscribe', 'One-Click']])}`,
    ],
  ])('reject %s', (_name, contentType, body) => {
    expect(isOneClickUnsubscribe(contentType, body)).toBe(false);
  });

  it('never throw on arbitrary content types and bodies (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.constantFrom(FORM, 'multipart/form-data', 'multipart/form-data; boundary='),
        ),
        fc.oneof(fc.string({ unit: 'binary' }), fc.uint8Array()),
        (contentType, body) => {
          expect(typeof isOneClickUnsubscribe(contentType, body)).toBe('boolean');
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
