/**
 * Click and open tracking for a rendered message: every http(s) `<a href>` of the HTML part (and
 * every bare http(s) URL of the text part) becomes `${baseUrl}/t/c/<token>`, where the token names
 * the link's index in `links`, the list the caller stores server-side for the redirect. The HTML
 * gets the open pixel before `</body>`.
 *
 * The HTML is parsed with parse5 (the WHATWG algorithm browsers use) with source locations, and
 * only the bytes of the rewritten `href` attributes change, so everything else stays
 * byte-identical. Left alone: non-http(s) links (`mailto:`, `tel:`, `#anchors`, relative),
 * links with `data-no-track`, the `untrackedUrls` (unsubscribe and preferences), links that
 * already point at our `/t/` or `/u/` routes, and links inside comments (Outlook's conditional
 * comments included), scripts and other raw text.
 *
 * `links` holds each URL as the WHATWG URL parser serialises it (what a browser would navigate
 * to: whitespace trimmed, entities decoded, unsafe characters percent-encoded), so it is safe as
 * a `Location` header. The same URL shares one index.
 */
import { InvalidInputError } from '@marketing/platform';
import { parse, type DefaultTreeAdapterTypes } from 'parse5';
import type { ClickToken, OpenToken } from './tokens.js';

export interface LinkTrackingOptions {
  /** The public origin of the tracking routes, e.g. `https://mail.example.com`. */
  baseUrl: string;
  deliveryId: string;
  /** Signs open and click tokens (a `TokenCodec`'s `sign`). */
  sign: (token: OpenToken | ClickToken) => string;
  /** Links never rewritten: the unsubscribe and preferences URLs. */
  untrackedUrls?: readonly string[];
  /** Links already tracked for this delivery (e.g. the HTML part's), continued by new ones. */
  links?: readonly string[];
}

export interface TrackedHtml {
  html: string;
  /** Tracked URLs by link index: the caller stores them with the delivery. */
  links: string[];
}

export interface TrackedText {
  text: string;
  links: string[];
}

type Element = DefaultTreeAdapterTypes.Element;
type Node = DefaultTreeAdapterTypes.Node;
type Location = NonNullable<Element['sourceCodeLocation']>;
interface Edit {
  start: number;
  end: number;
  text: string;
}

const HTML_NAMESPACE = 'http://www.w3.org/1999/xhtml';
/** Bare URLs in text: up to whitespace or a character that cannot end a URL in prose. */
const TEXT_URL = /\bhttps?:\/\/[^\s<>"`]+/gi;

export function rewriteLinks(html: string, options: LinkTrackingOptions): TrackedHtml {
  const tracker = linkTracker(options);
  const document = parse(html, { sourceCodeLocationInfo: true, scriptingEnabled: false });
  const edits: Edit[] = [];
  const seen = new Set<number>();
  for (const { anchor, href: location } of anchorsOf(document)) {
    // The adoption agency clones misnested anchors; a clone shares its original's location.
    if (seen.has(location.startOffset)) continue;
    seen.add(location.startOffset);
    if (anchor.attrs.some((a) => a.name === 'data-no-track')) continue;
    const href = anchor.attrs.find((a) => a.name === 'href')!.value;
    const tracked = tracker.track(href);
    if (tracked === null) continue;
    const name = html.slice(location.startOffset, location.startOffset + 4);
    edits.push({
      start: location.startOffset,
      end: location.endOffset,
      text: `${name}="${escapeAttribute(tracked)}"`,
    });
  }
  const pixelAt = pixelOffset(html, document);
  const pixel = `<img src="${escapeAttribute(tracker.pixel())}" width="1" height="1" alt="" style="display:none">`;
  edits.push({ start: pixelAt, end: pixelAt, text: pixel });
  return { html: applyEdits(html, edits), links: tracker.links };
}

/** The text part: every bare http(s) URL is rewritten, sharing indexes with `options.links`. */
export function rewriteTextLinks(text: string, options: LinkTrackingOptions): TrackedText {
  const tracker = linkTracker(options);
  const rewritten = text.replace(TEXT_URL, (match) => {
    const url = trimProse(match);
    const tracked = tracker.track(url);
    return tracked === null ? match : tracked + match.slice(url.length);
  });
  return { text: rewritten, links: tracker.links };
}

function linkTracker(options: LinkTrackingOptions) {
  const base = parseHttpUrl(options.baseUrl);
  if (!base || base.search || base.hash) {
    throw new InvalidInputError('must be an http(s) URL without query or fragment', 'baseUrl');
  }
  const baseUrl = base.href.replace(/\/+$/, '');
  const ours = [`${baseUrl}/t/`, `${baseUrl}/u/`];
  const untracked = new Set(
    (options.untrackedUrls ?? []).map((u) => parseHttpUrl(u)?.href ?? u.trim()),
  );
  const links = [...(options.links ?? [])];
  const indexes = new Map<string, number>();
  links.forEach((url, i) => indexes.has(url) || indexes.set(url, i));
  return {
    links,
    /** The tracking URL for `href`, or null when it stays as it is. */
    track(href: string): string | null {
      const url = parseHttpUrl(href)?.href;
      if (!url || untracked.has(url) || ours.some((prefix) => url.startsWith(prefix))) return null;
      let linkIndex = indexes.get(url);
      if (linkIndex === undefined) {
        linkIndex = links.push(url) - 1;
        indexes.set(url, linkIndex);
      }
      return `${baseUrl}/t/c/${options.sign({ kind: 'click', deliveryId: options.deliveryId, linkIndex })}`;
    },
    pixel: () => `${baseUrl}/t/o/${options.sign({ kind: 'open', deliveryId: options.deliveryId })}`,
  };
}

/** An absolute http(s) URL as a browser resolves an `href` (spaces trimmed and all), or null. */
function parseHttpUrl(value: string): URL | null {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/**
 * HTML anchors with an `href` from the source, in source order (template contents included:
 * they are markup too). Anchors the parser re-creates (misnesting) carry no location and are
 * skipped: their original is in the list.
 */
function anchorsOf(root: Node): { anchor: Element; href: Location }[] {
  const found: { anchor: Element; href: Location }[] = [];
  const visit = (node: Node) => {
    if ('tagName' in node) {
      const href = node.sourceCodeLocation?.attrs?.href;
      if (node.tagName === 'a' && node.namespaceURI === HTML_NAMESPACE && href) {
        found.push({ anchor: node, href });
      }
      if ('content' in node) visit(node.content as Node);
    }
    if ('childNodes' in node) node.childNodes.forEach(visit);
  };
  visit(root);
  return found.sort((a, b) => a.href.startOffset - b.href.startOffset);
}

/**
 * Where the pixel goes: before the (last) `</body>` end tag, else before `</html>`, else at the end.
 * parse5 records the end tag on a body it saw open; for an implied body it is found in the
 * source, skipping look-alikes inside comments, text (scripts, styles) and start tags.
 */
function pixelOffset(html: string, document: DefaultTreeAdapterTypes.Document): number {
  const htmlElement = document.childNodes.find((n): n is Element => n.nodeName === 'html');
  const body = htmlElement?.childNodes.find((n): n is Element => n.nodeName === 'body');
  const known = body?.sourceCodeLocation?.endTag ?? null;
  if (known) return known.startOffset;
  const opaque = opaqueRanges(document);
  for (const tag of [/<\/body[\s/>]/gi, /<\/html[\s/>]/gi]) {
    for (const match of html.matchAll(tag)) {
      if (!opaque.some(([start, end]) => match.index >= start && match.index < end)) {
        return match.index;
      }
    }
  }
  return html.length;
}

/** Source ranges of comments, text, doctypes and start tags: no end tag can begin inside them. */
function opaqueRanges(root: Node): [number, number][] {
  const ranges: [number, number][] = [];
  const visit = (node: Node) => {
    if ('tagName' in node) {
      const tag = node.sourceCodeLocation?.startTag;
      if (tag) ranges.push([tag.startOffset, tag.endOffset]);
      if ('content' in node) visit(node.content as Node);
    } else if ('sourceCodeLocation' in node && node.sourceCodeLocation) {
      ranges.push([node.sourceCodeLocation.startOffset, node.sourceCodeLocation.endOffset]);
    }
    if ('childNodes' in node) node.childNodes.forEach(visit);
  };
  visit(root);
  return ranges;
}

function applyEdits(source: string, edits: Edit[]): string {
  let out = '';
  let at = 0;
  for (const edit of [...edits].sort((a, b) => a.start - b.start)) {
    out += source.slice(at, edit.start) + edit.text;
    at = edit.end;
  }
  return out + source.slice(at);
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
}

/** Drops punctuation that ends the sentence rather than the URL; keeps balanced parentheses. */
function trimProse(url: string): string {
  let end = url.length;
  for (;;) {
    const last = url[end - 1]!;
    if (".,;:!?*'".includes(last) || (last === ']' && !url.slice(0, end - 1).includes('['))) {
      end -= 1;
    } else if (last === ')' && count(url, '(', end) < count(url, ')', end)) {
      end -= 1;
    } else {
      return url.slice(0, end);
    }
  }
}

function count(text: string, char: string, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i += 1) if (text[i] === char) n += 1;
  return n;
}
