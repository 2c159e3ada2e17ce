import { createSign, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { InvalidInputError } from '@marketing/platform';
import {
  cachingCertificateFetcher,
  isSnsUrl,
  parseSnsMessage,
  snsStringToSign,
  verifySnsSignature,
  type SnsMessage,
} from './sns-message.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const certUrl = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc123.pem';
const topicArn = 'arn:aws:sns:eu-west-1:123456789012:ses-feedback';

/** A message signed the way SNS signs it, with our test key. */
function signedSnsMessage(
  fields: Partial<SnsMessage> & Pick<SnsMessage, 'Type' | 'Message'>,
  key: KeyObject = privateKey,
): SnsMessage {
  const unsigned: SnsMessage = {
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: topicArn,
    Timestamp: '2026-03-01T12:00:00.000Z',
    SignatureVersion: '2',
    Signature: '',
    SigningCertURL: certUrl,
    ...fields,
  };
  const signer = createSign(unsigned.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
  signer.update(snsStringToSign(unsigned));
  return { ...unsigned, Signature: signer.sign(key, 'base64') };
}

const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
const fetched: string[] = [];
const fetchPublicKey = async (url: string) => {
  fetched.push(url);
  return publicPem;
};

describe('parseSnsMessage', () => {
  it('take a notification as SNS posts it, and Lambda spellings of the URL fields', () => {
    const message = signedSnsMessage({ Type: 'Notification', Message: '{}', Subject: 'Hi' });
    expect(parseSnsMessage(JSON.parse(JSON.stringify(message)))).toEqual(message);
    const { SigningCertURL, ...rest } = message;
    expect(parseSnsMessage({ ...rest, SigningCertUrl: SigningCertURL, Subject: null })).toEqual({
      ...rest,
      SigningCertURL,
      Subject: undefined,
    });
  });

  it('take a subscription confirmation with a token and an SNS subscribe URL', () => {
    const message = signedSnsMessage({
      Type: 'SubscriptionConfirmation',
      Message: 'You have chosen to subscribe...',
      Token: 'token-1',
      SubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=token-1',
    });
    expect(parseSnsMessage(message)).toEqual(message);
  });

  it.each([
    [null, 'body'],
    [[], 'body'],
    [{}, 'body.Type'],
    [{ Type: 'Notification' }, 'body.MessageId'],
    [
      { ...signedSnsMessage({ Type: 'Notification', Message: '' }), TopicArn: 'arn:x' },
      'body.TopicArn',
    ],
    [
      { ...signedSnsMessage({ Type: 'Notification', Message: '' }), SignatureVersion: '3' },
      'body.SignatureVersion',
    ],
    [
      { ...signedSnsMessage({ Type: 'Notification', Message: '' }), Signature: 'not base64!' },
      'body.Signature',
    ],
    [
      signedSnsMessage({
        Type: 'SubscriptionConfirmation',
        Message: '',
        SubscribeURL: 'https://sns.eu-west-1.amazonaws.com/',
      }),
      'body.Token',
    ],
    [
      signedSnsMessage({
        Type: 'SubscriptionConfirmation',
        Message: '',
        Token: 't',
        SubscribeURL: 'https://evil.test/confirm',
      }),
      'body.SubscribeURL',
    ],
  ])('refuse %j with an InvalidInputError at %s', (body, path) => {
    expect(() => parseSnsMessage(body)).toThrow(InvalidInputError);
    expect(() => parseSnsMessage(body)).toThrow(
      new RegExp(`^${path.replace(/[.[\]]/g, '\\$&')}(\\.|\\[|:)`),
    );
  });
});

describe('isSnsUrl', () => {
  it.each([
    ['https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem', true],
    ['https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-1.pem', true],
    ['http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem', false],
    ['https://sns.us-east-1.amazonaws.com.evil.test/x.pem', false],
    ['https://evil.test/sns.us-east-1.amazonaws.com/x.pem', false],
    ['https://sns.us-east-1.amazonaws.com@evil.test/x.pem', false],
    ['https://user@sns.us-east-1.amazonaws.com/x.pem', false],
    ['https://sns.us-east-1.amazonaws.com:8443/x.pem', false],
    ['https://s3.amazonaws.com/x.pem', false],
    ['not a url', false],
  ])('judge %s as %s', (url, expected) => {
    expect(isSnsUrl(url)).toBe(expected);
  });
});

describe('verifySnsSignature', () => {
  beforeEach(() => fetched.splice(0));

  it.each(['1', '2'] as const)(
    'accept a notification signed with SignatureVersion %s',
    async (version) => {
      const message = signedSnsMessage({
        Type: 'Notification',
        Message: '{"a":1}',
        SignatureVersion: version,
      });
      await expect(
        verifySnsSignature(message, fetchPublicKey, { topicArns: [topicArn] }),
      ).resolves.toBe(true);
      expect(fetched).toEqual([certUrl]);
    },
  );

  it('accept a subscription confirmation and a notification with a subject', async () => {
    const confirmation = signedSnsMessage({
      Type: 'SubscriptionConfirmation',
      Message: 'confirm',
      Token: 't-1',
      SubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription',
    });
    await expect(verifySnsSignature(confirmation, fetchPublicKey)).resolves.toBe(true);
    const withSubject = signedSnsMessage({ Type: 'Notification', Message: 'm', Subject: 'Bounce' });
    await expect(verifySnsSignature(withSubject, fetchPublicKey)).resolves.toBe(true);
    await expect(
      verifySnsSignature({ ...withSubject, Subject: undefined }, fetchPublicKey),
    ).resolves.toBe(false);
  });

  it('accept the key from an X.509 certificate, as SNS publishes it', async () => {
    const certificate = selfSignedCertificate();
    expect(new X509Certificate(certificate).subject).toBe('CN=sns.amazonaws.com');
    const message = signedSnsMessage({ Type: 'Notification', Message: 'x' });
    await expect(verifySnsSignature(message, async () => certificate)).resolves.toBe(true);
    await expect(verifySnsSignature(message, async () => Buffer.from(certificate))).resolves.toBe(
      true,
    );
  });

  it.each([
    ['Message', 'tampered'],
    ['MessageId', 'other-id'],
    ['Timestamp', '2026-03-01T12:00:01.000Z'],
    ['Type', 'SubscriptionConfirmation'],
    ['SignatureVersion', '1'],
  ] as const)('refuse a notification whose %s changed', async (field, value) => {
    const message = signedSnsMessage({ Type: 'Notification', Message: 'original' });
    await expect(verifySnsSignature({ ...message, [field]: value }, fetchPublicKey)).resolves.toBe(
      false,
    );
  });

  it('refuse a topic that is not ours, before fetching anything', async () => {
    const message = signedSnsMessage({
      Type: 'Notification',
      Message: 'x',
      TopicArn: 'arn:aws:sns:eu-west-1:999999999999:theirs',
    });
    await expect(
      verifySnsSignature(message, fetchPublicKey, { topicArns: [topicArn] }),
    ).resolves.toBe(false);
    expect(fetched).toEqual([]);
  });

  it.each([
    'http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc123.pem',
    'https://sns.eu-west-1.amazonaws.com.evil.test/SimpleNotificationService-abc123.pem',
    'https://evil.test/SimpleNotificationService-abc123.pem',
    'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc123.txt',
  ])('refuse the certificate URL %s without fetching it', async (url) => {
    const message = signedSnsMessage({ Type: 'Notification', Message: 'x', SigningCertURL: url });
    await expect(verifySnsSignature(message, fetchPublicKey)).resolves.toBe(false);
    expect(fetched).toEqual([]);
  });

  it('refuse a signature by another key, a non-RSA key, garbage and a failed fetch', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const message = signedSnsMessage({ Type: 'Notification', Message: 'x' });
    await expect(
      verifySnsSignature(
        signedSnsMessage({ Type: 'Notification', Message: 'x' }, other),
        fetchPublicKey,
      ),
    ).resolves.toBe(false);
    await expect(
      verifySnsSignature(message, async () => ec.export({ type: 'spki', format: 'pem' }) as string),
    ).resolves.toBe(false);
    await expect(verifySnsSignature(message, async () => 'not a pem')).resolves.toBe(false);
    await expect(
      verifySnsSignature(message, () => Promise.reject(new Error('timeout'))),
    ).resolves.toBe(false);
    await expect(
      verifySnsSignature({ ...message, Signature: 'AAAA' }, fetchPublicKey),
    ).resolves.toBe(false);
  });
});

describe('cachingCertificateFetcher', () => {
  it('fetch each URL once, forget failures and keep at most maxEntries', async () => {
    let calls = 0;
    let fail = true;
    const fetcher = cachingCertificateFetcher(async (url) => {
      calls += 1;
      if (url === 'u:flaky' && fail) throw new Error('down');
      return `pem of ${url}`;
    }, 2);
    await expect(fetcher('u:a')).resolves.toBe('pem of u:a');
    await expect(fetcher('u:a')).resolves.toBe('pem of u:a');
    expect(calls).toBe(1);
    await expect(fetcher('u:flaky')).rejects.toThrow('down');
    fail = false;
    await expect(fetcher('u:flaky')).resolves.toBe('pem of u:flaky');
    expect(calls).toBe(3);
    await fetcher('u:b');
    await fetcher('u:a');
    expect(calls).toBe(5);
  });
});

/** A minimal self-signed X.509 v3 certificate (CN=sns.amazonaws.com) for the test key, in PEM. */
function selfSignedCertificate(): string {
  const der = (tag: number, ...content: Buffer[]) => {
    const body = Buffer.concat(content);
    const n = body.length;
    const length =
      n < 0x80 ? Buffer.of(n) : n < 0x100 ? Buffer.of(0x81, n) : Buffer.of(0x82, n >> 8, n & 0xff);
    return Buffer.concat([Buffer.of(tag), length, body]);
  };
  const sha256WithRsa = der(
    0x30,
    der(0x06, Buffer.from('2a864886f70d01010b', 'hex')),
    Buffer.of(5, 0),
  );
  const name = der(
    0x30,
    der(
      0x31,
      der(0x30, der(0x06, Buffer.of(0x55, 4, 3)), der(0x0c, Buffer.from('sns.amazonaws.com'))),
    ),
  );
  const validity = der(
    0x30,
    der(0x17, Buffer.from('250101000000Z')),
    der(0x17, Buffer.from('491231235959Z')),
  );
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const tbs = der(
    0x30,
    der(0xa0, der(0x02, Buffer.of(2))),
    der(0x02, Buffer.of(1)),
    sha256WithRsa,
    name,
    validity,
    name,
    spki,
  );
  const signature = createSign('RSA-SHA256').update(tbs).sign(privateKey);
  const certificate = der(0x30, tbs, sha256WithRsa, der(0x03, Buffer.of(0), signature));
  const lines = certificate
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}
