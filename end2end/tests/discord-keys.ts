import { createPrivateKey, createPublicKey, sign, KeyObject } from 'node:crypto';

// The Discord application's key pair in the browser tests, from a fixed seed (the server's own tests use the
// same seed): the portal gets the public half as SUPPORTAL_DISCORD_PUBLIC_KEY, the specs sign with the private
// half, as Discord does.
const SEED = Buffer.alloc(32, 42);
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function discordPrivateKey(): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, SEED]), format: 'der', type: 'pkcs8' });
}

/** The public key as Discord's developer portal shows it: 64 hex digits. */
export function discordPublicKeyHex(): string {
  const spki = createPublicKey(discordPrivateKey()).export({ format: 'der', type: 'spki' });
  return Buffer.from(spki).subarray(-32).toString('hex');
}

/** The headers Discord sends with a body: Ed25519 over timestamp + raw body. */
export function discordHeaders(body: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = sign(null, Buffer.from(timestamp + body), discordPrivateKey()).toString('hex');
  return {
    'content-type': 'application/json',
    'x-signature-timestamp': timestamp,
    'x-signature-ed25519': signature,
  };
}
