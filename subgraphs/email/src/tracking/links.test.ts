import { InvalidInputError } from '@marketing/platform';
import fc from 'fast-check';
import { rewriteLinks, rewriteTextLinks, type LinkTrackingOptions } from './links.js';
import { createTokenCodec } from './tokens.js';

const codec = createTokenCodec([{ id: 't1', secret: 'links-test-secret-links-test-secret' }]);
const deliveryId = '6a1f0c3e-2b7d-4e59-8c14-0f9d3b2a7e61';
const unsubscribeUrl = 'https://mail.test/u/t1.unsubscribe-token';
const preferencesUrl = 'https://shop.test/account/email?c=1&p=2';
const options: LinkTrackingOptions = {
  baseUrl: 'https://mail.test',
  deliveryId,
  sign: codec.sign,
  untrackedUrls: [unsubscribeUrl, preferencesUrl],
};
const TRACKED = /https:\/\/mail\.test\/t\/c\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/g;
const PIXEL =
  /<img src="https:\/\/mail\.test\/t\/o\/([A-Za-z0-9_.-]+)" width="1" height="1" alt="" style="display:none">/;

/** The link each tracked URL of `output` redirects to, in order. */
function targets(output: string, links: string[]): string[] {
  return [...output.matchAll(TRACKED)].map((m) => {
    const click = codec.verify(m[1], 'click');
    expect(click?.deliveryId).toBe(deliveryId);
    return links[click!.linkIndex]!;
  });
}

function withoutPixel(html: string): string {
  const pixel = PIXEL.exec(html);
  expect(pixel).not.toBeNull();
  expect(codec.verify(pixel![1], 'open')).toEqual({ kind: 'open', deliveryId });
  return html.replace(PIXEL, '');
}

describe('rewriteLinks', () => {
  const email = [
    '<!doctype html>\r\n<html lang="en"><head><meta charset="utf-8"><title>Sale</title>',
    '<style>a[href^="http://styled.test"] { color: red }</style></head>\r\n<body>',
    '<p>Hello <b>Ann</b> &amp; welcome!</p>',
    '<a href="https://shop.test/p/1?utm=mail&amp;c=2" class="btn">Shoe</a>',
    "<a HREF = 'http://shop.test/p/2'>Socks</a>",
    '<A href=https://shop.test/p/1?utm=mail&c=2 target=_blank>Shoe again</A>',
    '<a href="mailto:help@shop.test">Mail us</a> <a href="tel:+4930123">Call</a>',
    '<a href="#top">Top</a> <a href="/relative">Rel</a> <a href="javascript:void(0)">JS</a>',
    '<a href="https://partner.test/" data-no-track>Partner</a>',
    `<a href="${unsubscribeUrl}">Unsubscribe</a>`,
    '<a href="https://shop.test/account/email?c=1&amp;p=2">Preferences</a>',
    '<a href="https://mail.test/t/c/alreadytracked">Tracked</a>',
    '<!--[if mso]><a href="https://mso.test/">Outlook</a><![endif]-->',
    '<script>document.write("<a href=\'https://script.test/\'>")</script>',
    '<textarea><a href="https://textarea.test/"></textarea>',
    '<img src="https://cdn.test/logo.png" alt="Logo">',
    '</body>\r\n</html>\r\n',
  ].join('');

  it('rewrite every trackable http(s) link of a whole document and keep the rest byte-identical', () => {
    const { html, links } = rewriteLinks(email, options);
    expect(links).toEqual(['https://shop.test/p/1?utm=mail&c=2', 'http://shop.test/p/2']);
    expect(targets(html, links)).toEqual([
      'https://shop.test/p/1?utm=mail&c=2',
      'http://shop.test/p/2',
      'https://shop.test/p/1?utm=mail&c=2',
    ]);
    let index = 0;
    const restored = withoutPixel(html).replace(
      /href="https:\/\/mail\.test\/t\/c\/[\w-]+\.[\w-]+"/gi,
      () => {
        index += 1;
        return [
          'href="https://shop.test/p/1?utm=mail&amp;c=2"',
          "HREF = 'http://shop.test/p/2'",
          'href=https://shop.test/p/1?utm=mail&c=2',
        ][index - 1]!;
      },
    );
    expect(restored).toBe(email);
  });

  it('put the open pixel right before </body>', () => {
    const { html } = rewriteLinks(email, options);
    expect(html).toMatch(
      /<\/textarea><img src="https:\/\/cdn\.test\/logo\.png" alt="Logo"><img src="https:\/\/mail\.test\/t\/o\/[^"]+" width="1" height="1" alt="" style="display:none"><\/body>\r\n<\/html>\r\n$/,
    );
  });

  it.each([
    ['a fragment without body', '<p>Hi</p>', '<p>Hi</p>@'],
    ['an implied body closed explicitly', '<p>Hi</p></body></html>', '<p>Hi</p>@</body></html>'],
    ['a body closed twice', '<body>a</body></body>', '<body>a</body>@</body>'],
    ['an html end tag only', '<p>a</p></html>', '<p>a</p>@</html>'],
    [
      'look-alikes in comments, scripts and attributes',
      '<!-- </body> --><script>"</body>"</script><p title="</body>">x</p>\n</BODY >',
      '<!-- </body> --><script>"</body>"</script><p title="</body>">x</p>\n@</BODY >',
    ],
    ['an empty document', '', '@'],
  ])('put the open pixel in %s', (_name, input, expected) => {
    const { html } = rewriteLinks(input, options);
    expect(html.replace(PIXEL, '@')).toBe(expected);
  });

  it('give identical URLs one index and keep different URLs apart', () => {
    const { html, links } = rewriteLinks(
      '<a href="https://a.test/x">1</a><a href="https://b.test/">2</a><a href=" https://a.test/x ">3</a>',
      options,
    );
    expect(links).toEqual(['https://a.test/x', 'https://b.test/']);
    expect(targets(html, links)).toEqual([
      'https://a.test/x',
      'https://b.test/',
      'https://a.test/x',
    ]);
  });

  it('store what a browser would navigate to: entities decoded, unsafe characters encoded', () => {
    const { links } = rewriteLinks(
      '<a href="https://a.test/a b?q=&quot;x&quot;&lt;&gt;&#38;r=1">x</a><a href="HTTPS://B.TEST/Path">y</a>',
      options,
    );
    expect(links).toEqual(['https://a.test/a%20b?q=%22x%22%3C%3E&r=1', 'https://b.test/Path']);
  });

  it('count a misnested anchor once', () => {
    const { html, links } = rewriteLinks(
      '<a href="https://a.test/"><b><a href="https://b.test/">x</b>y</a>',
      options,
    );
    expect(links).toEqual(['https://a.test/', 'https://b.test/']);
    expect(targets(html, links)).toEqual(['https://a.test/', 'https://b.test/']);
  });

  it('leave links inside svg, noscript-free markup and template contents to the parser', () => {
    const { links } = rewriteLinks(
      '<noscript><a href="https://noscript.test/">n</a></noscript><template><a href="https://template.test/">t</a></template><svg><a href="https://svg.test/"></a></svg>',
      options,
    );
    // Mail clients run no scripts, so <noscript> content is shown; SVG anchors are not HTML links.
    expect(links).toEqual(['https://noscript.test/', 'https://template.test/']);
  });

  it('continue the link list it is given and accept a base URL with a trailing slash', () => {
    const { html, links } = rewriteLinks(
      '<a href="https://b.test/">b</a><a href="https://a.test/">a</a>',
      {
        ...options,
        baseUrl: 'https://mail.test/',
        links: ['https://a.test/'],
      },
    );
    expect(links).toEqual(['https://a.test/', 'https://b.test/']);
    expect(targets(html, links)).toEqual(['https://b.test/', 'https://a.test/']);
  });

  it('escape a base URL path for the attribute', () => {
    const { html } = rewriteLinks('<a href="https://a.test/">a</a>', {
      ...options,
      baseUrl: 'https://mail.test/x&y',
    });
    expect(html).toContain('href="https://mail.test/x&amp;y/t/c/');
  });

  it.each(['ftp://mail.test', 'mail.test', 'https://mail.test/?q=1', 'https://mail.test/#x'])(
    'refuse the base URL %s',
    (baseUrl) => {
      expect(() => rewriteLinks('', { ...options, baseUrl })).toThrow(InvalidInputError);
    },
  );

  it('keep every non-link byte and map every trackable link back to its URL (property)', () => {
    fc.assert(
      fc.property(documents, ({ segments, wrapped }) => checkDocument(segments, wrapped)),
      {
        numRuns: 300,
      },
    );
  });

  it('never throw on arbitrary markup and change nothing when it has no http link (property)', () => {
    const markup = fc.array(
      fc.oneof(
        fc.string({ unit: 'binary' }),
        fc.constantFrom(
          '<',
          '>',
          '</',
          '<a ',
          'href=',
          '"',
          "'",
          '<!--',
          '-->',
          '<body>',
          '</body>',
          '<script>',
          '</html>',
          '&',
          '\r\n',
          '\0',
        ),
      ),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(markup, (parts) => {
        const input = parts.join('');
        const { html, links } = rewriteLinks(input, options);
        if (!/http/i.test(input)) {
          expect(links).toEqual([]);
          expect(withoutPixel(html)).toBe(input);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('rewriteTextLinks', () => {
  it('rewrite bare URLs, leaving the punctuation of the sentence around them', () => {
    const { text, links } = rewriteTextLinks(
      'See https://a.test/x. Or (https://en.wikipedia.org/wiki/Foo_(bar)), [https://b.test/c]\r\nend: HTTPS://a.test/x!',
      options,
    );
    expect(links).toEqual([
      'https://a.test/x',
      'https://en.wikipedia.org/wiki/Foo_(bar)',
      'https://b.test/c',
    ]);
    expect(text.replace(TRACKED, '@')).toBe('See @. Or (@), [@]\r\nend: @!');
    expect(targets(text, links)).toEqual([
      'https://a.test/x',
      'https://en.wikipedia.org/wiki/Foo_(bar)',
      'https://b.test/c',
      'https://a.test/x',
    ]);
  });

  it('share indexes with the HTML part and leave the untracked and our own links alone', () => {
    const html = rewriteLinks('<a href="https://a.test/">a</a>', options);
    const { text, links } = rewriteTextLinks(
      `Shop: https://b.test/ and https://a.test/\nUnsubscribe: ${unsubscribeUrl}\nPreferences: ${preferencesUrl}\nhttps://mail.test/u/other mailto:x@y.test`,
      { ...options, links: html.links },
    );
    expect(links).toEqual(['https://a.test/', 'https://b.test/']);
    expect(html.links).toEqual(['https://a.test/']);
    expect(text.replace(TRACKED, '@')).toBe(
      `Shop: @ and @\nUnsubscribe: ${unsubscribeUrl}\nPreferences: ${preferencesUrl}\nhttps://mail.test/u/other mailto:x@y.test`,
    );
    expect(targets(text, links)).toEqual(['https://b.test/', 'https://a.test/']);
  });

  it('keep text without URLs as it is and every URL mapped back (property)', () => {
    const word = fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => !/http/i.test(s));
    const url = fc.webUrl({ withQueryParameters: true, withFragments: true });
    fc.assert(
      fc.property(fc.array(fc.tuple(word, url)), word, (pairs, tail) => {
        const input = pairs.map(([w, u]) => `${w} ${u} `).join('') + tail;
        const { text, links } = rewriteTextLinks(input, options);
        const urls = pairs.map(([, u]) => u);
        const expected = urls.filter((u) => !/[.,;:!?*')\]]$/.test(u));
        // URLs that end like punctuation lose that end to the sentence; the rest map back whole.
        if (expected.length === urls.length) {
          expect(targets(text, links)).toEqual(urls.map((u) => new URL(u).href));
          expect(text.replace(TRACKED, '@')).toBe(pairs.map(([w]) => `${w} @ `).join('') + tail);
        }
      }),
      { numRuns: 300 },
    );
  });
});

type Segment =
  | { kind: 'raw'; text: string }
  | { kind: 'href'; text: string; url: string; tracked: boolean }
  | { kind: 'pixel' };

const rawText = fc
  .string({ unit: 'binary', maxLength: 20 })
  .map((s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;'));
const fragments = fc.constantFrom(
  '<p>',
  '</p>',
  '<br>',
  '<table><tr><td>',
  '</td></tr></table>',
  '<img src="http://img.test/a.png" alt="">',
  '<a name="top">',
  '</a>',
  '<!-- <a href="http://comment.test/"> -->',
  '<!--[if mso]><a href="http://mso.test/">x</a><![endif]-->',
  '<script>var a = "<a href=\'http://script.test/\'>";</script>',
  '<style>a[href="http://style.test"] {}</style>',
  '<textarea><a href="http://textarea.test/"></textarea>',
  '\r\n',
);
const untrackedHref = fc.constantFrom(
  'mailto:help@shop.test',
  'tel:+4930123',
  '#top',
  '/relative/path',
  'javascript:void(0)',
  unsubscribeUrl,
  preferencesUrl,
);
const anchor: fc.Arbitrary<Segment[]> = fc
  .record({
    url: fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), untrackedHref),
    quote: fc.constantFrom('"', "'", ''),
    spacing: fc.constantFrom('=', ' = ', '=\n'),
    name: fc.constantFrom('href', 'HREF', 'hRef'),
    before: fc.constantFrom('', ' class="btn"', ' data-no-track', " title='x > y'"),
    after: fc.constantFrom('', ' target=_blank', ' data-no-track=""', ' style="color:red"'),
    label: rawText,
  })
  .map(({ url, quote, spacing, name, before, after, label }) => {
    const q = quote === '' && /[\s"'=<>`]/.test(url) ? '"' : quote;
    let value = url.replace(/&/g, '&amp;');
    if (q === '"') value = value.replace(/"/g, '&quot;');
    if (q === "'") value = value.replace(/'/g, '&#39;');
    const noTrack = /data-no-track/.test(before + after);
    const tracked =
      !noTrack && /^https?:/.test(url) && url !== unsubscribeUrl && url !== preferencesUrl;
    return [
      { kind: 'raw', text: `<a${before} ` },
      { kind: 'href', text: `${name}${spacing}${q}${value}${q}`, url, tracked },
      { kind: 'raw', text: `${after}>${label}</a>` },
    ];
  });
const documents = fc
  .record({
    body: fc.array(
      fc.oneof(
        rawText.map((text): Segment[] => [{ kind: 'raw', text }]),
        fragments.map((text): Segment[] => [{ kind: 'raw', text }]),
        anchor,
      ),
      { maxLength: 25 },
    ),
    wrapped: fc.boolean(),
  })
  .map(({ body, wrapped }) => {
    const segments: Segment[] = body.flat();
    if (wrapped) {
      segments.unshift({
        kind: 'raw',
        text: '<!doctype html><html><head><title>t</title></head><body>',
      });
      segments.push({ kind: 'pixel' }, { kind: 'raw', text: '</body></html>' });
    } else {
      segments.push({ kind: 'pixel' });
    }
    return { segments, wrapped };
  });

function checkDocument(segments: Segment[], _wrapped: boolean): void {
  const input = segments.map((s) => (s.kind === 'pixel' ? '' : s.text)).join('');
  const { html, links } = rewriteLinks(input, options);
  let at = 0;
  const used = new Set<number>();
  for (const segment of segments) {
    if (segment.kind === 'raw' || (segment.kind === 'href' && !segment.tracked)) {
      expect(html.slice(at, at + segment.text.length)).toBe(segment.text);
      at += segment.text.length;
    } else if (segment.kind === 'href') {
      const match = /^href="https:\/\/mail\.test\/t\/c\/([^"]+)"/i.exec(html.slice(at));
      expect(match).not.toBeNull();
      const click = codec.verify(match![1], 'click');
      expect(click).not.toBeNull();
      expect(links[click!.linkIndex]).toBe(new URL(segment.url).href);
      used.add(click!.linkIndex);
      at += match![0].length;
    } else {
      const pixel = PIXEL.exec(html.slice(at));
      expect(pixel?.index).toBe(0);
      at += pixel![0].length;
    }
  }
  expect(at).toBe(html.length);
  expect(used.size).toBe(links.length);
  expect(new Set(links).size).toBe(links.length);
}
