/**
 * The device's own key pair and self-signed certificate, for serving the Remote UI over HTTPS.
 *
 * Made with WebCrypto and pkijs inside the firmware. DESIGN.md names node-forge for making keys and
 * certificates, but node-forge reaches for Node's `crypto` module at run time when it finds one,
 * which would break rule 1 (no hidden platform I/O in the core); WebCrypto is a standard global a
 * device runtime has. The private key never leaves NVRAM unsealed (SecretBox).
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import * as z from 'zod/mini';
import type { Random } from '../hal/random.ts';
import type { Nvram, RecordSpec, RecordTurn } from '../nvram/nvram.ts';
import type { SecretBox } from '../nvram/secret-box.ts';
import { fromBase64, toBase64 } from '../encoding.ts';
import { DAY_MS, DEVICE_CERT_VALIDITY_DAYS } from '../defaults.ts';

type StoredCertificate = { certDerB64: string; keySealed: string };

const RECORD: RecordSpec<StoredCertificate> = {
  name: 'pki/device-certificate',
  version: 1,
  schema: z.object({ certDerB64: z.string(), keySealed: z.string() }),
  factory: () => ({ certDerB64: '', keySealed: '' }),
};
const KEY_CONTEXT = 'pki.device-key';
const ALGORITHM: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };

export interface DeviceCertificate {
  readonly certDer: Uint8Array;
  /** PKCS#8 DER of the private key, for the platform's TLS server only. */
  readonly keyPkcs8Der: Uint8Array;
}

let engineReady = false;
function ensureEngine(): void {
  if (engineReady) return;
  pkijs.setEngine('webcrypto', new pkijs.CryptoEngine({ name: 'webcrypto', crypto: globalThis.crypto }));
  engineReady = true;
}

/** Make a key pair and a self-signed certificate for `hostNames` (DNS names or IPv4 addresses). */
export async function makeDeviceCertificate(options: { commonName: string; hostNames: readonly string[]; nowMs: number; random: Random }): Promise<DeviceCertificate> {
  ensureEngine();
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = options.random.bytes(16);
  serial[0] = serial[0]! & 0x7f; // positive INTEGER (RFC 5280 §4.1.2.2)
  cert.serialNumber = new asn1js.Integer({ valueHex: serial.buffer as ArrayBuffer });
  const name = [new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: options.commonName }) })];
  cert.subject.typesAndValues.push(...name);
  cert.issuer.typesAndValues.push(...name);
  cert.notBefore.value = new Date(options.nowMs - DAY_MS);
  cert.notAfter.value = new Date(options.nowMs + DEVICE_CERT_VALIDITY_DAYS * DAY_MS);
  const altNames = options.hostNames.map((h) =>
    /^\d+\.\d+\.\d+\.\d+$/.test(h)
      ? new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: new Uint8Array(h.split('.').map(Number)).buffer }) })
      : new pkijs.GeneralName({ type: 2, value: h }),
  );
  cert.extensions = [
    new pkijs.Extension({ extnID: '2.5.29.19', critical: true, extnValue: new pkijs.BasicConstraints({ cA: false }).toSchema().toBER(false) }),
    new pkijs.Extension({ extnID: '2.5.29.17', extnValue: new pkijs.GeneralNames({ names: altNames }).toSchema().toBER(false) }),
    new pkijs.Extension({ extnID: '2.5.29.37', extnValue: new pkijs.ExtKeyUsage({ keyPurposes: ['1.3.6.1.5.5.7.3.1'] }).toSchema().toBER(false) }),
  ];
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey);
  await cert.sign(keys.privateKey, 'SHA-256');
  return {
    certDer: new Uint8Array(cert.toSchema().toBER(false)),
    keyPkcs8Der: new Uint8Array(await crypto.subtle.exportKey('pkcs8', keys.privateKey)),
  };
}

/**
 * The stored device certificate, made on first use. Reading, making and storing run in the
 * record's NVRAM turn, so two first uses at once make one certificate, and the one in RAM is the
 * one in NVRAM.
 */
export class DeviceCertificateStore {
  private current: DeviceCertificate | undefined;

  constructor(
    private readonly nvram: Nvram,
    private readonly secrets: SecretBox,
    private readonly random: Random,
  ) {}

  get(make: { commonName: string; hostNames: readonly string[]; nowMs: number }): Promise<DeviceCertificate> {
    return this.nvram.exclusive(RECORD, async (turn) => (await this.stored(turn)) ?? this.make(turn, make));
  }

  /** The certificate if one was made already (none is made here). */
  async existing(): Promise<DeviceCertificate | undefined> {
    return this.current ?? this.nvram.exclusive(RECORD, (turn) => this.stored(turn));
  }

  regenerate(make: { commonName: string; hostNames: readonly string[]; nowMs: number }): Promise<DeviceCertificate> {
    return this.nvram.exclusive(RECORD, (turn) => this.make(turn, make));
  }

  private async stored(turn: RecordTurn<StoredCertificate>): Promise<DeviceCertificate | undefined> {
    if (this.current) return this.current;
    const stored = await turn.load();
    const key = stored.keySealed ? await this.secrets.open(stored.keySealed, KEY_CONTEXT) : undefined;
    if (stored.certDerB64 && key) this.current = { certDer: fromBase64(stored.certDerB64), keyPkcs8Der: fromBase64(key) };
    return this.current;
  }

  /** Make, store, then (only when stored) take into use. */
  private async make(turn: RecordTurn<StoredCertificate>, make: { commonName: string; hostNames: readonly string[]; nowMs: number }): Promise<DeviceCertificate> {
    const made = await makeDeviceCertificate({ ...make, random: this.random });
    await turn.save({ certDerB64: toBase64(made.certDer), keySealed: await this.secrets.seal(toBase64(made.keyPkcs8Der), KEY_CONTEXT) });
    this.current = made;
    return made;
  }
}
