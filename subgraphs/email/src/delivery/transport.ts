/**
 * Outgoing mail: nodemailer over SMTP (`SMTP_URL`, pooled connections, DKIM when configured), or,
 * for a local run without SMTP, `.eml` files in a directory. Failures are classified the way the
 * sender needs them: permanent (5xx: bounce and suppress) or temporary (4xx, lost connections:
 * retry with backoff).
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';

export interface OutgoingMessage {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  messageId: string;
  headers: Record<string, string>;
}

export interface SendResult {
  /** The server's answer, e.g. `250 OK: queued as ...`. */
  response: string;
}

export type SendFailureKind = 'permanent' | 'temporary';

export class SendFailure extends Error {
  constructor(
    message: string,
    readonly kind: SendFailureKind,
    readonly responseCode?: number,
  ) {
    super(message);
  }
}

export interface MailTransport {
  readonly kind: 'smtp' | 'files';
  send(message: OutgoingMessage): Promise<SendResult>;
  close(): void;
}

export interface TransportOptions {
  smtpUrl?: string;
  /** Where `.eml` files go when there is no SMTP server. */
  mailDir: string;
  /** Pooled SMTP connections (default 5). */
  maxConnections?: number;
  dkim?: { domainName: string; keySelector: string; privateKey: string };
}

export function createMailTransport(options: TransportOptions): MailTransport {
  if (!options.smtpUrl) return fileTransport(options.mailDir, options.dkim);
  const url = new URL(options.smtpUrl);
  const transporter = nodemailer.createTransport({
    pool: true,
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
    secure: url.protocol === 'smtps:',
    auth: url.username
      ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
      : undefined,
    maxConnections: options.maxConnections ?? 5,
    maxMessages: Infinity,
    // A loopback or private relay without a certificate for its name still gets STARTTLS.
    tls: { rejectUnauthorized: url.searchParams.get('tls') !== 'insecure' },
    ignoreTLS: url.searchParams.get('starttls') === 'off',
    dkim: options.dkim,
  });
  return {
    kind: 'smtp',
    async send(message) {
      try {
        const info = await transporter.sendMail(message);
        return { response: String(info.response ?? '') };
      } catch (error) {
        throw classify(error);
      }
    },
    close: () => transporter.close(),
  };
}

function fileTransport(dir: string, dkim: TransportOptions['dkim']): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, dkim });
  return {
    kind: 'files',
    async send(message) {
      const info = await transporter.sendMail(message);
      await mkdir(dir, { recursive: true });
      const name = createHash('sha256').update(message.messageId).digest('hex').slice(0, 24);
      const file = join(dir, `${name}.eml`);
      await writeFile(file, info.message as Buffer);
      return { response: `250 written to ${file}` };
    },
    close: () => transporter.close(),
  };
}

/** 5xx answers are permanent; 4xx answers and lost or refused connections are temporary. */
export function classify(error: unknown): SendFailure {
  const e = error as { message?: string; responseCode?: number; code?: string };
  const message = (e?.message ?? String(error)).slice(0, 1_000);
  const code = typeof e?.responseCode === 'number' ? e.responseCode : undefined;
  if (code !== undefined && code >= 500) return new SendFailure(message, 'permanent', code);
  return new SendFailure(message, 'temporary', code);
}
