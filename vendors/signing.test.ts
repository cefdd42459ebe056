/**
 * The gateway's Standard Webhooks signatures agree with the reference implementation (the
 * `standardwebhooks` library) in both directions, including non-ASCII bodies.
 */
import { Webhook } from 'standardwebhooks';
import { newSecret, sign, signHeaders, verifySignature } from './signing';

test('signatures match the standardwebhooks library and verify both ways', () => {
  const secret = newSecret();
  const reference = new Webhook(secret);
  const at = new Date(); // the library checks timestamps against its own clock
  for (const body of ['{"a":1}', '{"text":"Ça déménage — 東京 🚀"}', '']) {
    expect(sign(secret, 'msg_1', Math.floor(at.getTime() / 1000), body)).toBe(reference.sign('msg_1', at, body));
    const headers = { ...signHeaders(secret, body, 'msg_2', at) };
    expect(() => reference.verify(body, headers)).not.toThrow();
    expect(verifySignature([secret], body, headers, 300, at.getTime())).toBe('msg_2');
    const theirs = {
      'webhook-id': 'msg_3',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': reference.sign('msg_3', at, body),
    };
    expect(verifySignature([secret], body, theirs, 300, at.getTime())).toBe('msg_3');
  }
});

test('a signature from another secret or over another body does not verify', () => {
  const secret = newSecret();
  const headers = { ...signHeaders(secret, '{"a":1}', 'msg_1') };
  expect(() => verifySignature([newSecret()], '{"a":1}', headers, 300)).toThrow(/no signature matches/);
  expect(() => verifySignature([secret], '{"a":2}', headers, 300)).toThrow(/no signature matches/);
  expect(verifySignature([newSecret(), secret], '{"a":1}', headers, 300)).toBe('msg_1');
});
