/**
 * A real SMTP server on loopback that records what it receives (parsed), for delivery tests and
 * benchmarks. It can answer chosen recipients with a temporary (451) or permanent (550) failure,
 * or drop the connection in the middle of DATA, a given number of times each.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  from: string;
  messageId: string | undefined;
  subject: string | undefined;
  html: string | false;
  text: string | undefined;
  headers: ParsedMail['headers'];
  /** Header values as sent (unfolded), by lower-case name: mailparser reshapes some (List-*). */
  rawHeaders: Record<string, string>;
  raw: Buffer;
}

export type SinkFailure = '451' | '550' | 'drop';

interface SinkConnection {
  id: string;
  close(): void;
}

export interface SmtpSink {
  url: string;
  port: number;
  received: ReceivedMail[];
  /** Answers mail to `recipient` with `failure`, `times` times (default: always). */
  failFor(recipient: string, failure: SinkFailure, times?: number): void;
  /** Answers each message with `failure` with probability `p` (seeded for reproducibility). */
  failRandomly(p: number, failures: SinkFailure[], seed?: number): void;
  close(): Promise<void>;
}

export async function startSmtpSink(options: { parse?: boolean } = {}): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const planned = new Map<string, { failure: SinkFailure; times: number }>();
  let random: { p: number; failures: SinkFailure[]; next: () => number } | null = null;

  const decide = (recipients: string[]): SinkFailure | null => {
    for (const r of recipients) {
      const plan = planned.get(r.toLowerCase());
      if (plan && plan.times > 0) {
        plan.times -= 1;
        return plan.failure;
      }
    }
    if (random && random.next() < random.p) {
      return random.failures[Math.floor(random.next() * random.failures.length)]!;
    }
    return null;
  };

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const recipients = session.envelope.rcptTo.map((r) => r.address);
      const failure = decide(recipients);
      const chunks: Buffer[] = [];
      let dropped = false;
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (failure === 'drop' && !dropped) {
          dropped = true;
          // Mid-DATA: this connection closes; the client never hears an answer for the message.
          const connections = (server as unknown as { connections: Set<SinkConnection> })
            .connections;
          for (const c of connections) if (c.id === session.id) c.close();
        }
      });
      stream.on('end', () => {
        if (dropped) return;
        if (failure === '451') {
          const error = Object.assign(new Error('Temporary failure, try again later'), {
            responseCode: 451,
          });
          callback(error);
          return;
        }
        if (failure === '550') {
          const error = Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 });
          callback(error);
          return;
        }
        const raw = Buffer.concat(chunks);
        const store = (parsed: ParsedMail | null) => {
          received.push({
            to: recipients,
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            messageId: parsed?.messageId,
            subject: parsed?.subject,
            html: parsed?.html ?? false,
            text: parsed?.text,
            headers: parsed?.headers ?? new Map(),
            rawHeaders: Object.fromEntries(
              (parsed?.headerLines ?? []).map((h) => [
                h.key,
                h.line
                  .slice(h.line.indexOf(':') + 1)
                  .replace(/\r?\n[ \t]+/g, ' ')
                  .trim(),
              ]),
            ),
            raw,
          });
        };
        if (options.parse === false) {
          store(null);
          callback();
          return;
        }
        simpleParser(raw).then(
          (parsed) => {
            store(parsed);
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  // A client that dies mid-transaction (a SIGKILLed sender) resets its connection: that is the
  // client's fault, not the sink's, and must not crash the test process.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port;
  return {
    url: `smtp://127.0.0.1:${port}?starttls=off`,
    port,
    received,
    failFor(recipient, failure, times = Number.POSITIVE_INFINITY) {
      planned.set(recipient.toLowerCase(), { failure, times });
    },
    failRandomly(p, failures, seed = 1) {
      let state = seed >>> 0 || 1;
      const next = () => {
        // xorshift32: reproducible runs.
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        return (state >>> 0) / 2 ** 32;
      };
      random = { p, failures, next };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
