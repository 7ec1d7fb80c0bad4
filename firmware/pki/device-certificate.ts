/**
 * The device's own key pair and self-signed certificate, for serving the Remote UI over HTTPS: an
 * ECDSA P-256 key, made and kept as self-signed.ts makes and keeps the device's keys.
 */
import * as asn1js from 'asn1js';
import type { Random } from '../hal/random.ts';
import type { Nvram } from '../nvram/nvram.ts';
import type { SecretBox } from '../nvram/secret-box.ts';
import { DEVICE_CERT_VALIDITY_DAYS } from '../defaults.ts';
import { makeSelfSigned, SealedCertificateStore, type KeyAndCertificate } from './self-signed.ts';

const ALGORITHM: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };

/** The certificate and the PKCS#8 DER of its private key, for the platform's TLS server only. */
export type DeviceCertificate = KeyAndCertificate;

type Make = { commonName: string; hostNames: readonly string[]; nowMs: number };

/** Make a key pair and a self-signed certificate for `hostNames` (DNS names or IPv4 addresses). */
export async function makeDeviceCertificate(options: Make & { random: Random }): Promise<DeviceCertificate> {
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  return makeSelfSigned({
    keys,
    commonName: options.commonName,
    nowMs: options.nowMs,
    validityDays: DEVICE_CERT_VALIDITY_DAYS,
    random: options.random,
    extensions: (pkijs) => {
      const altNames = options.hostNames.map((h) =>
        /^\d+\.\d+\.\d+\.\d+$/.test(h)
          ? new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: new Uint8Array(h.split('.').map(Number)).buffer }) })
          : new pkijs.GeneralName({ type: 2, value: h }),
      );
      return [
        new pkijs.Extension({ extnID: '2.5.29.19', critical: true, extnValue: new pkijs.BasicConstraints({ cA: false }).toSchema().toBER(false) }),
        new pkijs.Extension({ extnID: '2.5.29.17', extnValue: new pkijs.GeneralNames({ names: altNames }).toSchema().toBER(false) }),
        new pkijs.Extension({ extnID: '2.5.29.37', extnValue: new pkijs.ExtKeyUsage({ keyPurposes: ['1.3.6.1.5.5.7.3.1'] }).toSchema().toBER(false) }),
      ];
    },
  });
}

/** The stored device certificate, made on first use (self-signed.ts SealedCertificateStore). */
export class DeviceCertificateStore extends SealedCertificateStore<Make> {
  constructor(nvram: Nvram, secrets: SecretBox, random: Random) {
    super(nvram, secrets, 'pki/device-certificate', 'pki.device-key', (make) => makeDeviceCertificate({ ...make, random }));
  }
}
