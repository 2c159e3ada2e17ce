import { InvalidInputError } from '@marketing/platform';
import {
  compileTemplate,
  DEFAULT_TEMPLATE_LIMITS,
  renderTemplate,
  TemplateError,
  type CompiledTemplate,
  type RenderContext,
  type TemplateSource,
} from './render.js';

const context = (overrides: Partial<RenderContext> = {}): RenderContext => ({
  customer: { firstName: 'Ann', lastName: 'Lee', email: 'ann@example.test' },
  event: null,
  campaign: { name: 'Spring sale' },
  links: {
    unsubscribe: 'https://mail.example.test/u/abc?t=1&s=2',
    preferences: 'https://mail.example.test/p/abc',
  },
  company: { postalAddress: 'Acme Shop Ltd\n1 Market Street\nSpringfield 12345', name: 'Acme' },
  ...overrides,
});

const checkout = {
  type: 'checkout.abandoned',
  total: 59.5,
  products: [
    { name: 'Trail Shoe', price: 49.5, url: 'https://shop.example.test/p/1?ref=mail&c=2' },
    { name: 'Wool Socks', price: 10, url: 'https://shop.example.test/p/2' },
  ],
};

/** 1-based line and column of the first `needle` in `source` (as liquidjs and MJML count). */
function positionOf(source: string, needle: string): { line: number; column: number } {
  const index = source.indexOf(needle);
  if (index < 0) throw new Error(`fixture does not contain ${needle}`);
  const before = source.slice(0, index);
  return { line: before.split('\n').length, column: index - before.lastIndexOf('\n') };
}

function compileError(source: TemplateSource, options?: Parameters<typeof compileTemplate>[1]) {
  try {
    compileTemplate(source, options);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('expected compileTemplate to throw');
}

async function renderError(template: CompiledTemplate, ctx: RenderContext) {
  try {
    await renderTemplate(template, ctx);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('expected renderTemplate to throw');
}

function expectAt(
  error: TemplateError,
  field: string,
  position: { line: number; column?: number },
  reason: string | RegExp,
) {
  expect(error).toBeInstanceOf(InvalidInputError);
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: `input.${field}` });
  expect(error.line).toBe(position.line);
  expect(error.column).toBe(position.column ?? null);
  expect(error.extensions).toMatchObject({ line: position.line, column: position.column ?? null });
  const where =
    position.column != null
      ? `line ${position.line}, column ${position.column}`
      : `line ${position.line}`;
  expect(error.message.startsWith(`input.${field}: ${where}`)).toBe(true);
  if (typeof reason === 'string') expect(error.message).toContain(reason);
  else expect(error.message).toMatch(reason);
}

const render = (source: TemplateSource, ctx: RenderContext = context()) =>
  renderTemplate(compileTemplate(source), ctx);

describe('personalisation', () => {
  it('renders customer values in the subject, html and text', async () => {
    const email = await render({
      subject: 'Hello {{ customer.firstName }}!',
      html: '<p>Dear {{ customer.firstName }} {{ customer.lastName }},</p>',
      text: 'Dear {{ customer.firstName }}, this is {{ campaign.name }}.',
    });
    expect(email.subject).toBe('Hello Ann!');
    expect(email.html).toContain('<p>Dear Ann Lee,</p>');
    expect(email.text.startsWith('Dear Ann, this is Spring sale.')).toBe(true);
    expect(email.preheader).toBeNull();
  });

  it("renders the abandoned checkout's products from the event in a for loop", async () => {
    const template = compileTemplate({
      subject: 'You left {{ event.products.size }} items behind',
      html: [
        '<ul>',
        '{% for p in event.products %}',
        '  <li><a href="{{ p.url }}">{{ p.name }}</a> {{ p.price | times: 1.0 }} EUR</li>',
        '{% endfor %}',
        '</ul>',
        '<p>Total {{ event.total }}</p>',
      ].join('\n'),
    });
    expect(template.variables).toEqual(
      expect.arrayContaining(['event.products', 'event.total', 'event.products.size']),
    );
    const email = await renderTemplate(template, context({ event: checkout }));
    expect(email.subject).toBe('You left 2 items behind');
    expect(email.html).toContain(
      '<li><a href="https://shop.example.test/p/1?ref=mail&amp;c=2">Trail Shoe</a> 49.5 EUR</li>',
    );
    expect(email.html).toContain('<li><a href="https://shop.example.test/p/2">Wool Socks</a> 10');
    expect(email.html).toContain('<p>Total 59.5</p>');
    expect(email.text).toContain(
      'Trail Shoe [https://shop.example.test/p/1?ref=mail&c=2] 49.5 EUR',
    );
  });

  it('renders an MJML template: Liquid first, then MJML to HTML', async () => {
    const email = await render(
      {
        subject: 'Your cart',
        mjml: [
          '<mjml>',
          '  <mj-body>',
          '    <mj-section background-color="{{ campaign.color | default: \'#f4f4f4\' }}">',
          '      <mj-column>',
          '        <mj-text>Hi {{ customer.firstName | default: "there" }}</mj-text>',
          '        {% for p in event.products %}',
          '        <mj-button href="{{ p.url }}">{{ p.name }}</mj-button>',
          '        {% endfor %}',
          '      </mj-column>',
          '    </mj-section>',
          '  </mj-body>',
          '</mjml>',
        ].join('\n'),
        html: '<p>stale html rendered from an older version</p>',
      },
      context({ event: checkout }),
    );
    expect(email.html).toMatch(/^<!doctype html>/i);
    expect(email.html).not.toContain('stale html');
    expect(email.html).not.toMatch(/<\/?mj-/);
    expect(email.html).toContain('background:#f4f4f4');
    expect(email.html).toContain('>Hi Ann</div>');
    expect(email.html).toContain('href="https://shop.example.test/p/1?ref=mail&amp;c=2"');
    expect(email.html).toContain('Wool Socks');
    expect(email.text).toContain('Hi Ann');
    expect(email.text).toContain('Trail Shoe [https://shop.example.test/p/1?ref=mail&c=2]');
  });
});

describe('missing variables', () => {
  const greeting = compileTemplate({
    subject: 'Hi {{ customer.firstName | default: "there" }}',
    html: '<p>Hi {{ customer.firstName | default: "there" }}</p>',
  });

  it.each([
    ['missing', {}],
    ['null', { firstName: null }],
    ['empty', { firstName: '' }],
  ])('lets `default` fill in a %s value', async (_case, customer) => {
    const email = await renderTemplate(greeting, context({ customer }));
    expect(email.subject).toBe('Hi there');
    expect(email.html).toContain('<p>Hi there</p>');
  });

  it('uses the value when there is one', async () => {
    const email = await renderTemplate(greeting, context());
    expect(email.subject).toBe('Hi Ann');
  });

  it('lets `if` test an optional value', async () => {
    const email = await render({
      subject: 'x',
      html: '{% if customer.vip %}VIP{% else %}regular{% endif %}',
    });
    expect(email.html).toContain('regular');
  });

  it('fails on a misspelled variable, with its line and column', async () => {
    const html = '<p>Hello,</p>\n<p>Dear {{ customer.fristName }},</p>';
    const error = await renderError(compileTemplate({ subject: 'x', html }), context());
    expectAt(
      error,
      'html',
      positionOf(html, 'customer.fristName'),
      'undefined variable: customer.fristName',
    );
    expect(error.line).toBe(2);
    expect(error.column).toBe(12);
  });

  it('names the field: subject and text too', async () => {
    const subject = 'Hi {{ customer.name }}';
    const error = await renderError(compileTemplate({ subject, html: '<p>x</p>' }), context());
    expectAt(error, 'subject', { line: 1, column: 7 }, 'undefined variable: customer.name');

    const text = 'Line one\n\n  {{ event.products.first.name }}';
    const eventError = await renderError(
      compileTemplate({ subject: 's', html: '<p>x</p>', text }),
      context({ event: { products: [] } }),
    );
    expectAt(
      eventError,
      'text',
      positionOf(text, 'event.products'),
      'undefined variable: event.products.first',
    );
  });

  it('fails on a loop over a misspelled event field', async () => {
    const html = '<ul>\n  {% for p in event.prodcts %}<li>{{ p.name }}</li>{% endfor %}\n</ul>';
    const error = await renderError(
      compileTemplate({ subject: 'x', html }),
      context({ event: checkout }),
    );
    expectAt(error, 'html', positionOf(html, 'event.prodcts'), 'undefined variable: event.prodcts');
  });

  it('fails when the template needs an event and there is none', async () => {
    const html = '<p>{{ event.total }}</p>';
    const error = await renderError(compileTemplate({ subject: 'x', html }), context());
    expectAt(error, 'html', { line: 1, column: 7 }, 'undefined variable: event');
  });

  it('does not expose prototype members of the context values', async () => {
    const html = '{{ customer.constructor }}';
    const error = await renderError(compileTemplate({ subject: 'x', html }), context());
    expectAt(error, 'html', { line: 1, column: 4 }, 'undefined variable: customer.constructor');
  });

  it('rejects unknown context roots and link names at compile time', () => {
    const html = '<p>Hi</p>\n<p>{{ custmer.firstName }}</p>';
    expectAt(
      compileError({ subject: 'x', html }),
      'html',
      positionOf(html, 'custmer'),
      'unknown variable "custmer.firstName" (available: customer, event, campaign, links, company)',
    );
    const text = 'Bye: {{ links.unsubscribeUrl }}';
    expectAt(
      compileError({ subject: 'x', html: '<p>x</p>', text }),
      'text',
      { line: 1, column: 9 },
      'unknown variable "links.unsubscribeUrl" (links has: unsubscribe, preferences)',
    );
  });

  it('accepts variables assigned or captured in the template', async () => {
    const email = await render(
      {
        subject: '{% assign n = customer.firstName | upcase %}{{ n }}',
        html: [
          '{% capture who %}<b>{{ customer.firstName }}</b>{% endcapture %}',
          '<p>{{ who }}</p>{% assign again = who %}<p>{{ again }}</p><p>{{ customer.lastName }}</p>',
        ].join(''),
        text: '{% capture who %}{{ customer.firstName }}{% endcapture %}Hi {{ who }}',
      },
      context({ customer: { firstName: 'A&B', lastName: '<b>A&amp;B</b> ' } }),
    );
    expect(email.subject).toBe('A&B');
    // Captured HTML is escaped once, when captured; a look-alike customer value is still escaped.
    expect(email.html).toContain(
      '<p><b>A&amp;B</b></p><p><b>A&amp;B</b></p><p>&lt;b&gt;A&amp;amp;B&lt;/b&gt; </p>',
    );
    expect(email.text.startsWith('Hi A&B\n')).toBe(true);
  });
});

describe('Liquid syntax errors', () => {
  it('reports an unclosed if with its line and column', () => {
    const html = '<h1>Sale</h1>\n<p>Hello</p>\n  {% if customer.vip %}\n<p>VIP price</p>';
    expectAt(
      compileError({ subject: 'x', html }),
      'html',
      { line: 3, column: 3 },
      'tag {% if customer.vip %} not closed',
    );
  });

  it('reports an unclosed output', () => {
    const subject = 'Hello {{ customer.firstName';
    expectAt(
      compileError({ subject, html: '<p>x</p>' }),
      'subject',
      { line: 1, column: 7 },
      'output "{{ customer.firstName" not closed',
    );
  });

  it('reports an unknown tag', () => {
    const preheader = 'Deals {% frobnicate %}';
    expectAt(
      compileError({ subject: 'x', preheader, html: '<p>x</p>' }),
      'preheader',
      { line: 1, column: 7 },
      'tag "frobnicate" not found',
    );
  });

  it('reports an unknown filter', () => {
    const text = 'Hi\n{{ customer.firstName | shout }}';
    expectAt(
      compileError({ subject: 'x', html: '<p>x</p>', text }),
      'text',
      { line: 2, column: 1 },
      'undefined filter: shout',
    );
  });

  it('positions Liquid errors in the MJML source', () => {
    const mjml = '<mjml>\n  <mj-body>\n    {% for p in event.products %}\n  </mj-body>\n</mjml>';
    expectAt(
      compileError({ subject: 'x', mjml }),
      'mjml',
      positionOf(mjml, '{% for'),
      'tag {% for p in event.products %} not closed',
    );
  });

  it('refuses include, render and layout: nothing is loaded from disk', () => {
    for (const tag of ['include', 'render', 'layout']) {
      const html = `<p>x</p>\n{% ${tag} "/etc/passwd" %}`;
      expectAt(
        compileError({ subject: 'x', html }),
        'html',
        { line: 2, column: 1 },
        `the {% ${tag} %} tag is not supported`,
      );
    }
  });

  it('requires a subject and a body', () => {
    expect(compileError({ subject: ' ', html: '<p>x</p>' }).message).toBe(
      'input.subject: is required',
    );
    expect(compileError({ subject: 'x', html: null, mjml: '' }).message).toBe(
      'input.html: is required when there is no mjml',
    );
  });
});

describe('MJML validation', () => {
  it('reports an invalid structure with the source line, Liquid notwithstanding', () => {
    const mjml = [
      '<mjml>',
      '  <mj-body>',
      '    {% comment %}',
      '      <mj-bogus>old block</mj-bogus>',
      '    {% endcomment %}',
      '    {% liquid',
      '      assign vip = customer.vip',
      '    %}',
      '    <mj-section background-color="{{ campaign.color | default: \'#ffffff\' }}">',
      '      {% if vip %}',
      '      <mj-text>Hi {{ customer.firstName }}</mj-text>',
      '      {% endif %}',
      '    </mj-section>',
      '  </mj-body>',
      '</mjml>',
    ].join('\n');
    const error = compileError({ subject: 'x', mjml });
    expectAt(
      error,
      'mjml',
      { line: positionOf(mjml, '<mj-text>').line },
      'invalid MJML: mj-text cannot be used inside mj-section, only inside: mj-attributes, mj-column, mj-hero',
    );
    expect(error.line).toBe(11);
  });

  it('lists every problem, each with its line', () => {
    const mjml = [
      '<mjml>',
      '  <mj-body>',
      '    <mj-section>',
      '      <mj-column>',
      '        <mj-text color="blurple">x</mj-text>',
      '        <mj-sparkle />',
      '      </mj-column>',
      '    </mj-section>',
      '  </mj-body>',
      '</mjml>',
    ].join('\n');
    const error = compileError({ subject: 'x', mjml });
    expectAt(
      error,
      'mjml',
      { line: 5 },
      'Attribute color has invalid value: blurple for type Color',
    );
    expect(error.message).toContain(
      "; line 6: Element mj-sparkle doesn't exist or is not registered",
    );
  });

  it('needs an <mjml> root with an <mj-body>', () => {
    expect(compileError({ subject: 'x', mjml: '<p>{{ customer.firstName }}</p>' }).message).toBe(
      'input.mjml: line 1: invalid MJML: the document must have an <mjml> root element',
    );
    expect(compileError({ subject: 'x', mjml: '<mjml>\n</mjml>' }).message).toBe(
      'input.mjml: line 1: invalid MJML: <mjml> has no <mj-body>',
    );
  });

  it('refuses mj-include', () => {
    const mjml =
      '<mjml>\n  <mj-body>\n    <mj-include path="/etc/passwd" />\n  </mj-body>\n</mjml>';
    expectAt(
      compileError({ subject: 'x', mjml }),
      'mjml',
      { line: 3, column: 5 },
      'mj-include is not supported',
    );
  });

  it('validates again once rendered: values can break an attribute', async () => {
    const mjml = [
      '<mjml>',
      '  <mj-body>',
      '    <mj-section background-color="{{ campaign.color }}">',
      '      <mj-column><mj-text>x</mj-text></mj-column>',
      '    </mj-section>',
      '  </mj-body>',
      '</mjml>',
    ].join('\n');
    const template = compileTemplate({ subject: 'x', mjml });
    const ok = await renderTemplate(template, context({ campaign: { color: '#abcdef' } }));
    expect(ok.html).toContain('background:#abcdef');
    const error = await renderError(template, context({ campaign: { color: 'blurple' } }));
    expect(error.message).toBe(
      'input.mjml: line 3 of the rendered MJML: invalid MJML once rendered: Attribute background-color has invalid value: blurple for type Color',
    );
    expect(error.line).toBe(3);
  });
});

describe('HTML escaping', () => {
  const nasty = `<script>alert("x")</script> & 'Co'`;

  it('escapes customer values in html and MJML, but not in subject and text', async () => {
    const ctx = context({ customer: { firstName: nasty } });
    const email = await render(
      {
        subject: 'Hi {{ customer.firstName }}',
        preheader: 'For {{ customer.firstName }}',
        html: '<p title="{{ customer.firstName }}">Hi {{ customer.firstName }}</p>',
        text: 'Hi {{ customer.firstName }}',
      },
      ctx,
    );
    const escaped = '&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;Co&#39;';
    expect(email.html).toContain(`<p title="${escaped}">Hi ${escaped}</p>`);
    expect(email.html).not.toContain('<script>');
    expect(email.subject).toBe(`Hi ${nasty}`);
    expect(email.preheader).toBe(`For ${nasty}`);
    expect(email.text.startsWith(`Hi ${nasty}\n`)).toBe(true);

    const mjmlEmail = await render(
      {
        subject: 'x',
        mjml: '<mjml><mj-body><mj-section><mj-column><mj-text>Hi {{ customer.firstName }}</mj-text></mj-column></mj-section></mj-body></mjml>',
      },
      ctx,
    );
    expect(mjmlEmail.html).toContain(`Hi ${escaped}`);
    expect(mjmlEmail.html).not.toContain('<script>');
  });

  it('does not offer `raw` in html', () => {
    const html = '<div>\n{{ customer.bio | raw }}</div>';
    expectAt(
      compileError({ subject: 'x', html }),
      'html',
      { line: 2, column: 1 },
      'undefined filter: raw (HTML output is always escaped; `raw` is not available)',
    );
  });

  it('keeps the markup the template itself writes', async () => {
    const email = await render({ subject: 'x', html: '<b>{{ "bold" | upcase }}</b> &amp; more' });
    expect(email.html).toContain('<b>BOLD</b> &amp; more');
  });
});

describe('text part', () => {
  it('is generated from the html: links kept as text [url], images dropped, wrapped', async () => {
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const email = await render({
      subject: 'x',
      html: [
        '<html><head><style>p { color: red; }</style></head><body>',
        '<h1>Hello {{ customer.firstName }}</h1>',
        '<img src="https://cdn.example.test/logo.png" alt="Acme logo">',
        `<p>${words}</p>`,
        '<p><a href="https://shop.example.test/cart">Back to your cart</a></p>',
        '<p><a href="https://shop.example.test">https://shop.example.test</a></p>',
        '</body></html>',
      ].join('\n'),
    });
    const lines = email.text.split('\n');
    expect(lines[0]).toBe('Hello Ann');
    expect(email.text).toContain('Back to your cart [https://shop.example.test/cart]');
    expect(email.text).toContain('\nhttps://shop.example.test\n');
    expect(email.text).not.toContain('logo');
    expect(email.text).not.toContain('color: red');
    expect(email.text).toContain('word0 word1');
    expect(email.text).toContain('word59');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(78);
  });

  it('is the rendered text template when there is one', async () => {
    const email = await render({
      subject: 'x',
      html: '<p>HTML version</p>',
      text: 'Plain version for {{ customer.firstName }} & co',
    });
    expect(email.text.startsWith('Plain version for Ann & co\n')).toBe(true);
    expect(email.text).not.toContain('HTML version');
  });
});

describe('compliance footer', () => {
  const ctx = context();
  const unsubscribeHref = 'href="https://mail.example.test/u/abc?t=1&amp;s=2"';

  it('adds unsubscribe, preferences and postal address to html and text', async () => {
    const email = await render({
      subject: 'x',
      html: '<html><body><p>Sale!</p></body></html>',
    });
    const footer = email.html.slice(email.html.indexOf('<p>Sale!</p>') + '<p>Sale!</p>'.length);
    expect(footer).toContain(unsubscribeHref);
    expect(footer).toContain('href="https://mail.example.test/p/abc"');
    expect(footer).toContain('Acme Shop Ltd<br>1 Market Street<br>Springfield 12345');
    expect(footer.endsWith('</div></body></html>')).toBe(true);
    expect(email.text).toBe(
      [
        'Sale!',
        '',
        '--',
        'Unsubscribe: https://mail.example.test/u/abc?t=1&s=2',
        'Manage email preferences: https://mail.example.test/p/abc',
        'Acme Shop Ltd',
        '1 Market Street',
        'Springfield 12345',
      ].join('\n'),
    );
  });

  it('adds the company name when the address does not start with it, escaped', async () => {
    const email = await render(
      { subject: 'x', html: '<p>Hi</p>', text: 'Hi' },
      context({ company: { name: 'Tom & Jerry <Shop>', postalAddress: '2 Road, Town' } }),
    );
    expect(email.html).toContain('Tom &amp; Jerry &lt;Shop&gt;<br>2 Road, Town</p></div>');
    expect(email.text.endsWith('\nTom & Jerry <Shop>\n2 Road, Town')).toBe(true);
  });

  it('only ensures the address when the template has its own unsubscribe link', async () => {
    const email = await render(
      {
        subject: 'x',
        html: '<p>Hi</p><p><a href="{{links.unsubscribe}}">Stop these emails</a></p>',
        text: 'Hi. Stop: {{ links.unsubscribe }}',
      },
      ctx,
    );
    expect(email.html.split(unsubscribeHref)).toHaveLength(2);
    expect(email.html).not.toContain('Manage email preferences');
    expect(email.html).toContain('Acme Shop Ltd<br>1 Market Street<br>Springfield 12345');
    expect(email.text).toBe(
      [
        'Hi. Stop: https://mail.example.test/u/abc?t=1&s=2',
        '',
        '--',
        'Acme Shop Ltd',
        '1 Market Street',
        'Springfield 12345',
      ].join('\n'),
    );
  });

  it('adds nothing when the template has the link and the address', async () => {
    const html =
      '<p>Hi</p><footer><a href="{{ links.unsubscribe }}">Unsubscribe</a> {{ company.postalAddress }}</footer>';
    const email = await render({ subject: 'x', html }, ctx);
    expect(email.html).not.toContain('compliance-footer');
    expect(email.text).not.toContain('\n--\n');
    expect(email.text).toContain('Unsubscribe [https://mail.example.test/u/abc?t=1&s=2]');
  });

  it('is added inside the MJML body', async () => {
    const email = await render({
      subject: 'x',
      mjml: '<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section></mj-body></mjml>',
    });
    expect(email.html).toMatch(/compliance-footer[^]*<\/div><\/body>\s*<\/html>\s*$/);
    expect(email.html).toContain(unsubscribeHref);
    expect(email.text).toContain('Unsubscribe: https://mail.example.test/u/abc?t=1&s=2');
  });
});

describe('preheader', () => {
  it('is injected as hidden preview text right after <body>', async () => {
    const email = await render({
      subject: 'x',
      preheader: '  {{ customer.firstName }}, 20% off <today>  ',
      html: '<html><head></head><body class="main"><p>Sale</p></body></html>',
    });
    expect(email.preheader).toBe('Ann, 20% off <today>');
    expect(email.html).toMatch(
      /^<html><head><\/head><body class="main"><div style="display:none;[^"]*opacity:0;overflow:hidden;mso-hide:all;">Ann, 20% off &lt;today&gt;<\/div><p>Sale<\/p>/,
    );
    expect(email.text.startsWith('Sale\n')).toBe(true);
  });

  it('leads an html fragment, and follows <body> in MJML output', async () => {
    const fragment = await render({ subject: 'x', preheader: 'Hidden', html: '<p>Sale</p>' });
    expect(fragment.html.startsWith('<div style="display:none;')).toBe(true);
    expect(fragment.html).toContain('>Hidden</div><p>Sale</p>');

    const mjml = await render({
      subject: 'x',
      preheader: 'Hidden',
      mjml: '<mjml><mj-body><mj-section><mj-column><mj-text>Sale</mj-text></mj-column></mj-section></mj-body></mjml>',
    });
    expect(mjml.html).toMatch(/<body[^>]*><div style="display:none;[^>]*>Hidden<\/div>/);
  });

  it('is null when the template has none or it renders empty', async () => {
    const none = await render({ subject: 'x', html: '<p>x</p>' });
    expect(none.preheader).toBeNull();
    expect(none.html).not.toContain('display:none');
    const empty = await render({
      subject: 'x',
      preheader: '{{ customer.nickname | default: "" }}',
      html: '<p>x</p>',
    });
    expect(empty.preheader).toBeNull();
  });
});

describe('subject', () => {
  it('is one line and must not render empty', async () => {
    const email = await render(
      { subject: 'Hi\n{{ customer.firstName }}', html: '<p>x</p>' },
      context({ customer: { firstName: 'Ann\r\nBcc: x@evil.test' } }),
    );
    expect(email.subject).toBe('Hi Ann Bcc: x@evil.test');
    const error = await renderError(
      compileTemplate({ subject: '{{ customer.firstName }}', html: '<p>x</p>' }),
      context({ customer: { firstName: '' } }),
    );
    expect(error.message).toBe('input.subject: renders empty');
  });
});

describe('limits', () => {
  it('refuses a source over 512 KB', () => {
    const html = `<p>${'x'.repeat(DEFAULT_TEMPLATE_LIMITS.sourceBytes)}</p>`;
    expect(compileError({ subject: 'x', html }).message).toBe(
      `input.html: is too large: ${html.length} bytes (the limit is 524288 bytes)`,
    );
    const subject = 'é'.repeat(2049);
    expect(compileError({ subject, html: '<p>x</p>' }).message).toBe(
      'input.subject: is too large: 4098 bytes (the limit is 4096 bytes)',
    );
  });

  it('stops a render that takes too long', async () => {
    const html =
      '<p>\n{% for i in (1..3000) %}{% for j in (1..3000) %}{{ i }}{% endfor %}{% endfor %}</p>';
    const template = compileTemplate({ subject: 'x', html }, { limits: { renderMs: 50 } });
    const started = Date.now();
    const error = await renderError(template, context());
    expect(Date.now() - started).toBeLessThan(2_000);
    // Reported at the loop being rendered when the time ran out: the outer or the inner one.
    expect(error.message).toMatch(
      /^input\.html: line 2, column (1|25): template render limit exceeded$/,
    );
  });

  it('stops a render that allocates too much', async () => {
    const html = '<p>Hi</p>\n{% for i in (1..100000000) %}{{ i }}{% endfor %}';
    const error = await renderError(compileTemplate({ subject: 'x', html }), context());
    expectAt(error, 'html', { line: 2, column: 1 }, 'memory alloc limit exceeded');
  });

  it('refuses a rendered email over the output limit', async () => {
    const html = '{% for p in event.products %}<p>{{ p.name }}</p>{% endfor %}';
    const template = compileTemplate({ subject: 'x', html }, { limits: { outputChars: 1_000 } });
    const products = Array.from({ length: 100 }, (_, i) => ({ name: `Product ${i}` }));
    const error = await renderError(template, context({ event: { products } }));
    expect(error.message).toMatch(
      /^input\.html: the rendered html is too large: \d+ characters \(the limit is 1000\)$/,
    );
  });

  it('only renders templates it compiled', async () => {
    await expect(renderTemplate({ kind: 'html', variables: [] }, context())).rejects.toThrow(
      TypeError,
    );
  });
});
