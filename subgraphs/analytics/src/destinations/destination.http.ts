/**
 * One HTTP POST to a destination: a hard timeout over the whole exchange, no redirects followed,
 * and the SSRF guard applied to the address actually connected to (DNS answers included).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { addressAllowed, type UrlPolicy } from './destination.url.js';

export interface HttpOutcome {
  /** 2xx. */
  ok: boolean;
  /** Worth another attempt later (network failure, timeout, 408, 425, 429, 5xx). */
  retryable: boolean;
  /** What went wrong, for the delivery's last error. */
  error?: string;
}

export interface PostRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

const MAX_ERROR_BODY = 500;

/** Resolves like dns.lookup but drops every address the policy refuses. */
function guardedLookup(policy: UrlPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const allowed = addresses.filter((a) => addressAllowed(a.address, policy));
      if (allowed.length === 0) {
        const refused = Object.assign(new Error(`${hostname} resolves to a refused address`), {
          code: 'EADDRREFUSED',
        });
        return callback(refused, '', 0);
      }
      if (options.all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

/** Connection pools kept between requests (a worker owns one pair and destroys it when stopping). */
export interface Agents {
  http: http.Agent;
  https: https.Agent;
}

export function keepAliveAgents(maxSockets: number): Agents {
  return {
    http: new http.Agent({ keepAlive: true, maxSockets }),
    https: new https.Agent({ keepAlive: true, maxSockets }),
  };
}

export async function postJson(
  request: PostRequest,
  options: { timeoutMs: number; policy: UrlPolicy; signal?: AbortSignal; agents?: Agents },
): Promise<HttpOutcome> {
  const url = new URL(request.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !addressAllowed(host, options.policy)) {
    return { ok: false, retryable: false, error: `address ${host} refused` };
  }
  const secure = url.protocol === 'https:';
  // The guarded lookup runs for every new connection; a reused one was checked when it opened.
  const agent = options.agents ? (secure ? options.agents.https : options.agents.http) : false;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const send = (via: http.Agent | false) =>
    exchange(url, request, { lookup: guardedLookup(options.policy), signal, agent: via }, timeout);
  const first = await send(agent);
  // A kept-alive connection the receiver closed as we reused it: the request never got there.
  return first.staleConnection ? (await send(false)).outcome : first.outcome;
}

function exchange(
  url: URL,
  request: PostRequest,
  options: { lookup: LookupFunction; signal: AbortSignal; agent: http.Agent | false },
  timeout: AbortSignal,
): Promise<{ outcome: HttpOutcome; staleConnection: boolean }> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const done = (outcome: HttpOutcome, staleConnection = false) =>
      resolve({ outcome, staleConnection });
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(request.body).toString(),
          'user-agent': 'marketing-platform-destinations/1',
          ...request.headers,
        },
        ...options,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_ERROR_BODY) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('error', (error) => done(failure(error, timeout)));
        res.on('end', () => {
          if (status >= 200 && status < 300) return done({ ok: true, retryable: false });
          const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY).trim();
          done({
            ok: false,
            retryable: status >= 500 || [408, 425, 429].includes(status),
            error: `HTTP ${status}${text ? `: ${text}` : ''}`,
          });
        });
      },
    );
    req.on('error', (error) => {
      const stale =
        req.reusedSocket && (error as { code?: string }).code === 'ECONNRESET' && !timeout.aborted;
      done(failure(error, timeout), stale);
    });
    req.end(request.body);
  });
}

function failure(error: Error, timeout: AbortSignal): HttpOutcome {
  if (timeout.aborted) return { ok: false, retryable: true, error: 'timed out' };
  const code = (error as { code?: string }).code;
  return {
    ok: false,
    retryable: code !== 'EADDRREFUSED',
    error: `${code ? `${code}: ` : ''}${error.message}`.slice(0, MAX_ERROR_BODY),
  };
}
