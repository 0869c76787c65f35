/**
 * Encryption at rest of webhook signing secrets: AES-256-GCM (`node:crypto`) with a 96-bit random
 * IV per secret and the webhook and secret ids as additional data, so a ciphertext copied onto
 * another webhook or slot does not decrypt. The 256-bit data key is derived with HKDF-SHA256 from
 * the deployment's pepper (Secrets Manager in AWS, `<data dir>/pepper` locally, 0600) under a label
 * of its own: key separation without a second secret to provision, rotate and grant.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const LABEL = 'rekey webhook signing-secret encryption v1';

/** The data key for signing secrets, derived from the pepper. */
export function webhookDataKey(pepper: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', pepper, Buffer.alloc(0), LABEL, 32));
}

const aad = (webhookId: string, secretId: string) => Buffer.from(`${webhookId}/${secretId}`, 'utf8');

export function encryptSecret(key: Buffer, webhookId: string, secretId: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(webhookId, secretId));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64url');
}

/** Throws when the ciphertext was tampered with, moved, or encrypted under another key. */
export function decryptSecret(key: Buffer, webhookId: string, secretId: string, enc: string): string {
  const raw = Buffer.from(enc, 'base64url');
  if (raw.length < 12 + 16 + 1) throw new Error('signing secret ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(aad(webhookId, secretId));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
}
