/**
 * The email template engine: Liquid (liquidjs) in the subject, preheader, html, text and MJML
 * fields, MJML compiled to HTML, a plain-text part generated from the HTML when the template has
 * none, the preheader injected as hidden preview text and a compliance footer (unsubscribe and
 * preferences links, postal address) ensured on both parts. Pure: no database, no file system.
 *
 * `compileTemplate` validates and parses once (saving a broken template fails there, with the line
 * and column); `renderTemplate` personalises the compiled template for one recipient. Every error
 * is a TemplateError: BAD_USER_INPUT with the field as `path` (`input.html`, ...) and the position.
 */
import { createRequire } from 'node:module';
import { InvalidInputError } from '@marketing/platform';
import { compile as compileHtmlToText } from 'html-to-text';
import {
  CaptureTag,
  filters,
  Liquid,
  LiquidError,
  Tokenizer,
  TypeGuards,
  type Context,
  type Template,
  type Variable,
  type Variables,
} from 'liquidjs';

export interface TemplateSource {
  subject: string;
  preheader?: string | null;
  mjml?: string | null;
  html?: string | null;
  text?: string | null;
}

export interface RenderContext {
  customer: Record<string, unknown>;
  event?: Record<string, unknown> | null;
  campaign?: Record<string, unknown> | null;
  links: { unsubscribe: string; preferences: string };
  company: { postalAddress: string; name?: string };
}

export interface RenderedEmail {
  subject: string;
  preheader: string | null;
  html: string;
  text: string;
}

/** The parsed template; opaque apart from what it tells about itself. Compile once, render many. */
export interface CompiledTemplate {
  /** Where the html part comes from: the MJML source, or the html source itself. */
  readonly kind: 'mjml' | 'html';
  /** Context paths the template reads, e.g. `customer.firstName`, `event.products`. */
  readonly variables: readonly string[];
}

export interface TemplateLimits {
  /** Largest html, mjml or text source, in UTF-8 bytes. */
  sourceBytes: number;
  /** Largest subject or preheader source, in UTF-8 bytes. */
  lineSourceBytes: number;
  /** Time budget of each field's Liquid render (liquidjs `renderLimit`), in milliseconds. */
  renderMs: number;
  /** Allocation budget of each field's Liquid render (liquidjs `memoryLimit`: array and string sizes). */
  memory: number;
  /** Largest rendered html or text, in characters. */
  outputChars: number;
}

export const DEFAULT_TEMPLATE_LIMITS: Readonly<TemplateLimits> = Object.freeze({
  sourceBytes: 512 * 1024,
  lineSourceBytes: 4 * 1024,
  renderMs: 1_000,
  memory: 10_000_000,
  outputChars: 2 * 1024 * 1024,
});

export type TemplateField = 'subject' | 'preheader' | 'mjml' | 'html' | 'text';

/** Where a problem is, 1-based; `of` names the text when it is not the field's source itself. */
export interface TemplatePosition {
  line: number;
  column?: number | null;
  of?: string;
}

/**
 * A template that cannot be compiled or rendered. BAD_USER_INPUT with `path` `input.<field>`;
 * the message starts with the position (`input.html: line 3, column 1: tag ... not closed`), also
 * given as `line`/`column` here and in the GraphQL extensions.
 */
export class TemplateError extends InvalidInputError {
  readonly field: TemplateField;
  readonly line: number | null;
  readonly column: number | null;

  constructor(field: TemplateField, reason: string, position: TemplatePosition | null = null) {
    let where = '';
    if (position) {
      where = `line ${position.line}`;
      if (position.column != null) where += `, column ${position.column}`;
      if (position.of) where += ` of ${position.of}`;
      where += ': ';
    }
    super(`${where}${reason}`, `input.${field}`);
    this.field = field;
    this.line = position?.line ?? null;
    this.column = position?.column ?? null;
    if (position) Object.assign(this.extensions, { line: this.line, column: this.column });
  }
}

// ---------------------------------------------------------------------------------------------
// Liquid

/** Roots a template may read; `links` and `company` have a fixed shape. */
const CONTEXT_ROOTS = new Set(['customer', 'event', 'campaign', 'links', 'company']);
const FIXED_KEYS: Record<string, ReadonlySet<string>> = {
  links: new Set(['unsubscribe', 'preferences']),
  company: new Set(['postalAddress', 'name']),
};

const forbiddenTag = (name: string) => ({
  parse(): void {
    throw new Error(`the {% ${name} %} tag is not supported: a template cannot load other files`);
  },
  render(): void {},
});

const liquidEscape = filters.escape as (this: unknown, value: unknown) => string;
const CAPTURED_HTML = 'capturedHtml';
const capturedHtml = (ctx: Context) => ctx.getRegister(CAPTURED_HTML, new Set<string>());

/**
 * In HTML, `{% capture %}` collects already-escaped output; outputting the captured variable must
 * not escape it a second time (`A&amp;amp;B`). The captured strings of the render are remembered
 * and output as they are. A customer value can only match one if it is exactly HTML this very
 * render produced from the template, so nothing new can be injected that way.
 */
class HtmlCaptureTag extends CaptureTag {
  override *render(ctx: Context): Generator<unknown, void, string> {
    yield* super.render(ctx);
    const value = (ctx.bottom() as Record<string, unknown>)[this.variable];
    if (typeof value === 'string') capturedHtml(ctx).add(value);
  }
}

function escapeOutput(this: { context: Context }, value: unknown): string {
  if (typeof value === 'string' && capturedHtml(this.context).has(value)) return value;
  return liquidEscape.call(this, value);
}

/**
 * Strict parsing (unknown tags and filters are parse errors), strict variables at render time
 * with `lenientIf`: a missing variable throws with its position, except as the subject of
 * `if`/`elsif`/`unless`/`case`/`assign` and when `default` is the first filter
 * (`{{ customer.firstName | default: "there" }}`). `ownPropertyOnly` hides prototypes
 * (`customer.constructor` is "undefined"). `templates: {}` is an empty in-memory file system and
 * include/render/layout are refused at parse time, so nothing is ever read from disk.
 */
function createEngine(html: boolean): Liquid {
  const engine = new Liquid({
    strictFilters: true,
    strictVariables: true,
    lenientIf: true,
    ownPropertyOnly: true,
    outputEscape: html ? escapeOutput : undefined,
    templates: {},
    dynamicPartials: false,
    cache: false,
    timezoneOffset: 0,
    locale: 'en-US',
    parseLimit: DEFAULT_TEMPLATE_LIMITS.sourceBytes,
    renderLimit: DEFAULT_TEMPLATE_LIMITS.renderMs,
    memoryLimit: DEFAULT_TEMPLATE_LIMITS.memory,
  });
  for (const name of ['include', 'render', 'layout']) engine.registerTag(name, forbiddenTag(name));
  if (html) {
    engine.registerTag('capture', HtmlCaptureTag);
    // `| raw` would opt out of the HTML escaping of customer values: not in HTML templates.
    engine.unregisterFilter('raw');
  }
  return engine;
}

/** For html and MJML: every `{{ }}` output is HTML-escaped. */
const htmlEngine = createEngine(true);
/** For subject, preheader and text: plain text, nothing escaped. */
const textEngine = createEngine(false);

interface LiquidPart {
  field: TemplateField;
  engine: Liquid;
  templates: Template[];
  /** The part references `links.unsubscribe` itself (then the footer only ensures the address). */
  hasUnsubscribe: boolean;
  hasPostalAddress: boolean;
}

function positionOf(error: LiquidError): { line: number; column: number } | null {
  const token = (error as { token?: { getPosition?: () => number[] } }).token;
  if (!token?.getPosition) return null;
  const [line, column] = token.getPosition();
  return { line, column };
}

/** liquidjs appends `, line:L, col:C` (and `, file:F`) to its messages: positions are ours. */
function reasonOf(error: LiquidError): string {
  return error.message.replace(/(, file:.*?)?, line:\d+, col:\d+$/, '');
}

/** A liquidjs error as a TemplateError of `field`; anything else is a bug and stays as it is. */
function liquidError(field: TemplateField, error: unknown): unknown {
  if (!LiquidError.is(error)) return error;
  let reason = reasonOf(error);
  if (reason === 'undefined filter: raw' && (field === 'html' || field === 'mjml')) {
    reason += ' (HTML output is always escaped; `raw` is not available)';
  }
  return new TemplateError(field, reason, positionOf(error));
}

function sizeCheck(field: TemplateField, source: string, limit: number): void {
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > limit) {
    throw new TemplateError(field, `is too large: ${bytes} bytes (the limit is ${limit} bytes)`);
  }
}

function parseLiquid(field: TemplateField, engine: Liquid, source: string): LiquidPart {
  let templates: Template[];
  try {
    templates = engine.parse(source);
  } catch (error) {
    throw liquidError(field, error);
  }
  const analysis = engine.analyzeSync(templates, { partials: false });
  checkGlobals(field, analysis.globals);
  const refs = Object.values(analysis.globals).flat();
  const has = (root: string, key: string) =>
    refs.some((v) => v.segments[0] === root && v.segments[1] === key);
  return {
    field,
    engine,
    templates,
    hasUnsubscribe: has('links', 'unsubscribe'),
    hasPostalAddress: has('company', 'postalAddress'),
  };
}

/** Unknown roots (`{{ custmer.name }}`) and unknown `links.*`/`company.*` keys fail at compile time. */
function checkGlobals(field: TemplateField, globals: Variables): void {
  const problems: { variable: Variable; reason: string }[] = [];
  for (const variables of Object.values(globals)) {
    for (const variable of variables) {
      const [root, key] = variable.segments;
      if (typeof root !== 'string' || !CONTEXT_ROOTS.has(root)) {
        problems.push({
          variable,
          reason: `unknown variable "${String(variable)}" (available: ${[...CONTEXT_ROOTS].join(', ')})`,
        });
      } else if (FIXED_KEYS[root] && typeof key === 'string' && !FIXED_KEYS[root].has(key)) {
        problems.push({
          variable,
          reason: `unknown variable "${String(variable)}" (${root} has: ${[...FIXED_KEYS[root]].join(', ')})`,
        });
      }
    }
  }
  if (problems.length === 0) return;
  problems.sort(
    (a, b) =>
      a.variable.location.row - b.variable.location.row ||
      a.variable.location.col - b.variable.location.col,
  );
  const { variable, reason } = problems[0];
  throw new TemplateError(field, reason, {
    line: variable.location.row,
    column: variable.location.col,
  });
}

function globalPaths(part: LiquidPart): string[] {
  return part.engine.globalFullVariablesSync(part.templates, { partials: false });
}

// ---------------------------------------------------------------------------------------------
// MJML

interface MjmlNode {
  tagName: string;
  line?: number;
  children?: MjmlNode[];
}
interface MjmlValidationError {
  line: number;
  message: string;
  tagName: string;
}
type Mjml2Html = (
  input: string,
  options: Record<string, unknown>,
) => Promise<{ html: string; errors: MjmlValidationError[] }>;

/**
 * mjml 5's `mjml2html` is async, but compiling is synchronous: the structure is checked with the
 * same parser and validator mjml2html runs (mjml-parser-xml, mjml-validator and the components
 * the `mjml` package registers in mjml-core). All are loaded with Node's `require`, resolved from
 * `mjml` itself, so they are the very module instances mjml2html uses (also under jest, whose
 * own module registry would otherwise hand out a second mjml-core without the components).
 */
const mjml = (() => {
  const requireHere = createRequire(import.meta.url);
  const requireFromMjml = createRequire(requireHere.resolve('mjml'));
  const requireFromCore = createRequire(requireFromMjml.resolve('mjml-core'));
  const mjml2html = requireFromMjml('mjml') as Mjml2Html;
  const core = requireFromMjml('mjml-core') as {
    components: Record<string, unknown>;
    initializeType: unknown;
  };
  const validator = requireFromMjml('mjml-validator') as {
    default: (node: MjmlNode, options: Record<string, unknown>) => MjmlValidationError[];
    dependencies: Record<string, unknown>;
  };
  type Parser = (xml: string, options: Record<string, unknown>) => MjmlNode | null;
  const parserModule = requireFromCore('mjml-parser-xml') as Parser | { default: Parser };
  const parse = typeof parserModule === 'function' ? parserModule : parserModule.default;
  if (
    typeof mjml2html !== 'function' ||
    typeof validator.default !== 'function' ||
    typeof parse !== 'function' ||
    typeof core.initializeType !== 'function' ||
    !core.components['mj-body']
  ) {
    throw new Error('mjml internals are not what the template engine expects (mjml 5.4)');
  }
  return {
    mjml2html,
    parse: (xml: string) =>
      parse(xml, {
        components: core.components,
        keepComments: false,
        ignoreIncludes: true,
        filePath: '',
      }),
    validate: (node: MjmlNode) =>
      validator.default(node, {
        components: core.components,
        dependencies: validator.dependencies,
        initializeType: core.initializeType,
      }),
  };
})();

const MJML_OPTIONS = {
  validationLevel: 'strict',
  ignoreIncludes: true,
  keepComments: false,
  filePath: '',
  minify: false,
  beautify: false,
};

const OUTPUT_MARK = '\uE000';
const TAG_MARK = '\uE001';
const newlinesOf = (text: string) => text.replace(/[^\n]/g, '');
/** An attribute with a double-quoted, single-quoted or unquoted value. */
const ATTRIBUTE = /\s[^\s=<>"'/]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+)/g;

/**
 * The MJML source with its Liquid taken out, line numbers kept: tags disappear (so both branches
 * of an `if` and one pass of a `for` are validated), comment blocks are blanked, and attributes
 * whose value holds Liquid are dropped (their value is only known at render time; an empty one
 * would fail the Color/Unit checks). What is left is the structure the render will have.
 */
function mjmlSkeleton(source: string): string {
  const tokens = new Tokenizer(source, htmlEngine.options.operators).readTopLevelTokens(
    htmlEngine.options,
  );
  let out = '';
  let inComment = false;
  for (const token of tokens) {
    const text = token.getText();
    if (TypeGuards.isTagToken(token)) {
      if (token.name === 'comment') inComment = true;
      else if (token.name === 'endcomment') inComment = false;
      out += TAG_MARK + newlinesOf(text);
    } else if (inComment) {
      out += newlinesOf(text);
    } else if (TypeGuards.isOutputToken(token)) {
      out += OUTPUT_MARK + newlinesOf(text);
    } else {
      out += text;
    }
  }
  out = out.replace(ATTRIBUTE, (attribute) =>
    attribute.includes(OUTPUT_MARK) || attribute.includes(TAG_MARK)
      ? ' ' + newlinesOf(attribute)
      : attribute,
  );
  return out.replaceAll(OUTPUT_MARK, '').replaceAll(TAG_MARK, '');
}

function lineAt(source: string, index: number): { line: number; column: number } {
  const before = source.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - before.lastIndexOf('\n') };
}

/** The first error's message, then the others with their line. */
function mjmlProblems(errors: MjmlValidationError[]): string {
  return errors
    .map((e, i) => (i === 0 ? e.message.trim() : `line ${e.line}: ${e.message.trim()}`))
    .join('; ');
}

/** Strict MJML validation of the source's structure; errors carry the source line. */
function validateMjmlSource(source: string): void {
  const include = /<mj-include\b/i.exec(source);
  if (include) {
    throw new TemplateError(
      'mjml',
      'mj-include is not supported: a template cannot load other files',
      lineAt(source, include.index),
    );
  }
  let root: MjmlNode | null;
  try {
    root = mjml.parse(mjmlSkeleton(source));
  } catch (error) {
    throw new TemplateError('mjml', `invalid MJML: ${(error as Error).message}`);
  }
  if (!root || root.tagName !== 'mjml') {
    throw new TemplateError(
      'mjml',
      'invalid MJML: the document must have an <mjml> root element',
      root?.line ? { line: root.line } : null,
    );
  }
  if (!root.children?.some((child) => child.tagName === 'mj-body')) {
    throw new TemplateError('mjml', 'invalid MJML: <mjml> has no <mj-body>', {
      line: root.line ?? 1,
    });
  }
  const errors = mjml.validate(root);
  if (errors.length > 0) {
    throw new TemplateError('mjml', `invalid MJML: ${mjmlProblems(errors)}`, {
      line: errors[0].line,
    });
  }
}

/** Liquid has run; the MJML is validated again (strict) and compiled to HTML. */
async function mjmlToHtml(rendered: string): Promise<string> {
  try {
    const { html } = await mjml.mjml2html(rendered, MJML_OPTIONS);
    return html;
  } catch (error) {
    const errors = (error as { errors?: MjmlValidationError[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      throw new TemplateError('mjml', `invalid MJML once rendered: ${mjmlProblems(errors)}`, {
        line: errors[0].line,
        of: 'the rendered MJML',
      });
    }
    throw new TemplateError('mjml', `invalid MJML once rendered: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Compile

interface Compiled {
  subject: LiquidPart;
  preheader: LiquidPart | null;
  /** html or mjml. */
  body: LiquidPart;
  text: LiquidPart | null;
  limits: TemplateLimits;
}

const compiledParts = new WeakMap<CompiledTemplate, Compiled>();

const present = (value: string | null | undefined): value is string =>
  typeof value === 'string' && value.trim() !== '';

/**
 * Validates and parses a template once. Throws TemplateError (with the field and the line and
 * column) on a Liquid syntax error, an unknown tag, filter or context variable, invalid MJML or a
 * source over the size limit.
 */
export function compileTemplate(
  source: TemplateSource,
  options: { limits?: Partial<TemplateLimits> } = {},
): CompiledTemplate {
  const limits: TemplateLimits = { ...DEFAULT_TEMPLATE_LIMITS, ...options.limits };
  if (!present(source.subject)) throw new TemplateError('subject', 'is required');
  sizeCheck('subject', source.subject, limits.lineSourceBytes);
  const subject = parseLiquid('subject', textEngine, source.subject);

  let preheader: LiquidPart | null = null;
  if (present(source.preheader)) {
    sizeCheck('preheader', source.preheader, limits.lineSourceBytes);
    preheader = parseLiquid('preheader', textEngine, source.preheader);
  }

  let body: LiquidPart;
  if (present(source.mjml)) {
    sizeCheck('mjml', source.mjml, limits.sourceBytes);
    body = parseLiquid('mjml', htmlEngine, source.mjml);
    validateMjmlSource(source.mjml);
  } else if (present(source.html)) {
    sizeCheck('html', source.html, limits.sourceBytes);
    body = parseLiquid('html', htmlEngine, source.html);
  } else {
    throw new TemplateError('html', 'is required when there is no mjml');
  }

  let text: LiquidPart | null = null;
  if (present(source.text)) {
    sizeCheck('text', source.text, limits.sourceBytes);
    text = parseLiquid('text', textEngine, source.text);
  }

  const parts = [subject, preheader, body, text].filter((p): p is LiquidPart => p !== null);
  const compiled: CompiledTemplate = Object.freeze({
    kind: body.field === 'mjml' ? ('mjml' as const) : ('html' as const),
    variables: Object.freeze([...new Set(parts.flatMap(globalPaths))].sort()),
  });
  compiledParts.set(compiled, { subject, preheader, body, text, limits });
  return compiled;
}

// ---------------------------------------------------------------------------------------------
// Render

const htmlToText = compileHtmlToText({
  wordwrap: 78,
  selectors: [
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['[', ']'] } },
    { selector: 'img', format: 'skip' },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({
      selector,
      options: { uppercase: false },
    })),
  ],
});

const escapeHtml = (value: string) =>
  value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&#34;')
    .replace(/'/g, '&#39;');

async function renderPart(part: LiquidPart, scope: object, limits: TemplateLimits) {
  try {
    // Synchronous: no tag or filter of ours is async, and the async path costs a promise per node.
    const out: unknown = part.engine.renderSync(part.templates, scope, {
      renderLimit: limits.renderMs,
      memoryLimit: limits.memory,
    });
    return String(out);
  } catch (error) {
    throw liquidError(part.field, error);
  }
}

/** The usual hidden preview text, right after `<body>` (first in a fragment without one). */
function injectPreheader(html: string, preheader: string): string {
  const element =
    '<div style="display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0;' +
    `max-width:0;opacity:0;overflow:hidden;mso-hide:all;">${escapeHtml(preheader)}</div>`;
  const body = /<body\b[^>]*>/i.exec(html);
  if (!body) return element + html;
  const at = body.index + body[0].length;
  return html.slice(0, at) + element + html.slice(at);
}

interface FooterNeeds {
  links: boolean;
  address: boolean;
}

function footerNeeds(part: LiquidPart): FooterNeeds {
  return { links: !part.hasUnsubscribe, address: !part.hasPostalAddress };
}

function addressLines(company: RenderContext['company']): string[] {
  const lines = company.postalAddress
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const name = company.name?.trim();
  return name && !lines[0]?.includes(name) ? [name, ...lines] : lines;
}

function htmlFooter(context: RenderContext, needs: FooterNeeds): string {
  if (!needs.links && !needs.address) return '';
  const style = 'color:#6b7280;text-decoration:underline;';
  const rows: string[] = [];
  if (needs.links) {
    rows.push(
      `<p style="margin:0 0 8px;"><a href="${escapeHtml(context.links.unsubscribe)}" style="${style}">Unsubscribe</a>` +
        ` &middot; <a href="${escapeHtml(context.links.preferences)}" style="${style}">Manage email preferences</a></p>`,
    );
  }
  if (needs.address) {
    rows.push(
      `<p style="margin:0;">${addressLines(context.company).map(escapeHtml).join('<br>')}</p>`,
    );
  }
  return (
    '<div class="compliance-footer" style="padding:24px 16px;font-family:Arial,Helvetica,sans-serif;' +
    `font-size:12px;line-height:18px;color:#6b7280;text-align:center;">${rows.join('')}</div>`
  );
}

/** Before the last `</body>`, or at the end of a fragment. */
function appendToBody(html: string, footer: string): string {
  if (!footer) return html;
  const at = html.toLowerCase().lastIndexOf('</body>');
  return at < 0 ? html + footer : html.slice(0, at) + footer + html.slice(at);
}

function textFooter(context: RenderContext, needs: FooterNeeds): string {
  const lines: string[] = [];
  if (needs.links) {
    lines.push(`Unsubscribe: ${context.links.unsubscribe}`);
    lines.push(`Manage email preferences: ${context.links.preferences}`);
  }
  if (needs.address) lines.push(...addressLines(context.company));
  return lines.length ? `\n\n--\n${lines.join('\n')}` : '';
}

function outputCheck(field: TemplateField, what: string, value: string, limit: number): void {
  if (value.length > limit) {
    throw new TemplateError(
      field,
      `the rendered ${what} is too large: ${value.length} characters (the limit is ${limit})`,
    );
  }
}

/**
 * Personalises a compiled template for one recipient. Throws TemplateError on a render-time
 * problem: a missing variable (with its line and column), a limit exceeded, MJML made invalid
 * by the rendered values, an empty subject.
 */
export async function renderTemplate(
  template: CompiledTemplate,
  context: RenderContext,
): Promise<RenderedEmail> {
  const compiled = compiledParts.get(template);
  if (!compiled) throw new TypeError('renderTemplate needs a template from compileTemplate');
  const { limits } = compiled;
  // A missing event or campaign is left out, so `{{ event.x }}` is a clear "undefined variable".
  const scope: Record<string, unknown> = {
    customer: context.customer,
    links: { unsubscribe: context.links.unsubscribe, preferences: context.links.preferences },
    company: { postalAddress: context.company.postalAddress, name: context.company.name ?? null },
  };
  if (context.event != null) scope.event = context.event;
  if (context.campaign != null) scope.campaign = context.campaign;

  const subject = (await renderPart(compiled.subject, scope, limits)).replace(/\s+/g, ' ').trim();
  if (!subject) throw new TemplateError('subject', 'renders empty');

  let preheader: string | null = null;
  if (compiled.preheader) {
    preheader = (await renderPart(compiled.preheader, scope, limits)).replace(/\s+/g, ' ').trim();
    preheader ||= null;
  }

  let body = await renderPart(compiled.body, scope, limits);
  if (compiled.body.field === 'mjml') body = await mjmlToHtml(body);
  outputCheck(compiled.body.field, 'html', body, limits.outputChars);

  let text: string;
  let textNeeds: FooterNeeds;
  if (compiled.text) {
    text = (await renderPart(compiled.text, scope, limits)).trim();
    textNeeds = footerNeeds(compiled.text);
  } else {
    text = htmlToText(body).trim();
    textNeeds = footerNeeds(compiled.body);
  }
  text += textFooter(context, textNeeds);
  outputCheck(compiled.text ? 'text' : compiled.body.field, 'text', text, limits.outputChars);

  let html = appendToBody(body, htmlFooter(context, footerNeeds(compiled.body)));
  if (preheader) html = injectPreheader(html, preheader);
  return { subject, preheader, html, text };
}
