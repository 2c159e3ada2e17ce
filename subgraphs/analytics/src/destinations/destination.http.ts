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

export function postJson(
  request: PostRequest,
  options: { timeoutMs: number; policy: UrlPolicy; signal?: AbortSignal },
): Promise<HttpOutcome> {
  const url = new URL(request.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !addressAllowed(host, options.policy)) {
    return Promise.resolve({ ok: false, retryable: false, error: `address ${host} refused` });
  }
  const client = url.protocol === 'https:' ? https : http;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  return new Promise<HttpOutcome>((resolve) => {
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
        lookup: guardedLookup(options.policy),
        signal,
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_ERROR_BODY) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('error', (error) => resolve(failure(error, timeout)));
        res.on('end', () => {
          if (status >= 200 && status < 300) return resolve({ ok: true, retryable: false });
          const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY).trim();
          resolve({
            ok: false,
            retryable: status >= 500 || [408, 425, 429].includes(status),
            error: `HTTP ${status}${text ? `: ${text}` : ''}`,
          });
        });
      },
    );
    req.on('error', (error) => resolve(failure(error, timeout)));
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
