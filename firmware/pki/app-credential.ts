/**
 * The device's credential for signing in as an app (OAuth 2.0 client credentials, and a
 * confidential authorization code client): an RSA key pair and a self-signed certificate the admin
 * uploads to the app registration (Certificates & secrets). Entra verifies client assertions
 * signed RS256 or PS256 only, never with an EC key (graph-exchange.md E), hence RSA, unlike the
 * Remote UI's ECDSA key. CN = the device name, so the portal's list says which printer it is.
 *
 * The key is made once and kept sealed in NVRAM (self-signed.ts); "New key pair" replaces it,
 * which stops the registered certificate from working until the new one is uploaded.
 */
import { APP_CREDENTIAL_RSA_BITS, APP_CREDENTIAL_VALIDITY_DAYS } from '../defaults.ts';
import { toBase64, toHex } from '../encoding.ts';
import type { Random } from '../hal/random.ts';
import type { Nvram } from '../nvram/nvram.ts';
import type { SecretBox } from '../nvram/secret-box.ts';
import { makeSelfSigned, SealedCertificateStore, type KeyAndCertificate } from './self-signed.ts';

export type AppCredential = KeyAndCertificate;

type Make = { commonName: string; nowMs: number };

/** An RSA key (exportable once, to be sealed) and its certificate for digital signatures. */
export async function makeAppCredential(options: Make & { random: Random }): Promise<AppCredential> {
  const keys = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: APP_CREDENTIAL_RSA_BITS, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  return makeSelfSigned({
    keys,
    commonName: options.commonName,
    nowMs: options.nowMs,
    validityDays: APP_CREDENTIAL_VALIDITY_DAYS,
    random: options.random,
    extensions: (pkijs) => [
      new pkijs.Extension({ extnID: '2.5.29.19', critical: true, extnValue: new pkijs.BasicConstraints({ cA: false }).toSchema().toBER(false) }),
      // keyUsage digitalSignature (RFC 5280 §4.2.1.3): bit 0 of a BIT STRING with 7 unused bits.
      new pkijs.Extension({ extnID: '2.5.29.15', critical: true, extnValue: new Uint8Array([0x03, 0x02, 0x07, 0x80]).buffer }),
      new pkijs.Extension({ extnID: '2.5.29.37', extnValue: new pkijs.ExtKeyUsage({ keyPurposes: ['1.3.6.1.5.5.7.3.2'] }).toSchema().toBER(false) }),
    ],
  });
}

/** The stored app credential, made on first use. */
export class AppCredentialStore extends SealedCertificateStore<Make> {
  constructor(nvram: Nvram, secrets: SecretBox, random: Random) {
    super(nvram, secrets, 'pki/app-credential', 'pki.app-key', (make) => makeAppCredential({ ...make, random }));
  }
}

/** The certificate's SHA-1 and SHA-256 digests in upper-case hex without separators, as the Entra portal shows the thumbprint. */
export async function thumbprints(certDer: Uint8Array): Promise<{ readonly sha1: string; readonly sha256: string }> {
  const [sha1, sha256] = await Promise.all([crypto.subtle.digest('SHA-1', certDer as BufferSource), crypto.subtle.digest('SHA-256', certDer as BufferSource)]);
  return { sha1: toHex(new Uint8Array(sha1)).toUpperCase(), sha256: toHex(new Uint8Array(sha256)).toUpperCase() };
}

/** PEM text of a DER certificate (RFC 7468), for the download the admin uploads to the app registration. */
export function certificatePem(certDer: Uint8Array): string {
  const b64 = toBase64(certDer).replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}
