/**
 * The device's own key pairs and their self-signed certificates: made with WebCrypto and pkijs
 * inside the firmware (DESIGN.md names node-forge for making keys and certificates, but node-forge
 * reaches for Node's `crypto` module at run time when it finds one, which would break rule 1; the
 * WebCrypto global is what a device runtime has), and kept in NVRAM with the private key sealed
 * (SecretBox): the ECDSA key of the Remote UI's HTTPS (device-certificate.ts) and the RSA key the
 * device signs client assertions with (app-credential.ts).
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import * as z from 'zod/mini';
import { DAY_MS } from '../defaults.ts';
import { fromBase64, toBase64 } from '../encoding.ts';
import type { Random } from '../hal/random.ts';
import type { Nvram, RecordSpec, RecordTurn } from '../nvram/nvram.ts';
import type { SecretBox } from '../nvram/secret-box.ts';

/** A certificate and the PKCS#8 DER of its private key (which never leaves the device unsealed but to the platform's TLS or a signature). */
export interface KeyAndCertificate {
  readonly certDer: Uint8Array;
  readonly keyPkcs8Der: Uint8Array;
}

let engineReady = false;
function ensureEngine(): void {
  if (engineReady) return;
  pkijs.setEngine('webcrypto', new pkijs.CryptoEngine({ name: 'webcrypto', crypto: globalThis.crypto }));
  engineReady = true;
}

/**
 * A self-signed certificate for `keys`: subject = issuer = CN `commonName`, valid from a day
 * before `nowMs` (a peer whose clock is a little behind still takes it) for `validityDays`, a
 * random positive serial, signed with SHA-256.
 */
export async function makeSelfSigned(options: {
  readonly keys: CryptoKeyPair;
  readonly commonName: string;
  readonly nowMs: number;
  readonly validityDays: number;
  readonly random: Random;
  readonly extensions: (p: typeof pkijs) => pkijs.Extension[];
}): Promise<KeyAndCertificate> {
  ensureEngine();
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = options.random.bytes(16);
  serial[0] = serial[0]! & 0x7f; // positive INTEGER (RFC 5280 §4.1.2.2)
  cert.serialNumber = new asn1js.Integer({ valueHex: serial.buffer as ArrayBuffer });
  const name = [new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: options.commonName }) })];
  cert.subject.typesAndValues.push(...name);
  cert.issuer.typesAndValues.push(...name);
  cert.notBefore.value = new Date(options.nowMs - DAY_MS);
  cert.notAfter.value = new Date(options.nowMs + options.validityDays * DAY_MS);
  cert.extensions = options.extensions(pkijs);
  await cert.subjectPublicKeyInfo.importKey(options.keys.publicKey);
  await cert.sign(options.keys.privateKey, 'SHA-256');
  return {
    certDer: new Uint8Array(cert.toSchema().toBER(false)),
    keyPkcs8Der: new Uint8Array(await crypto.subtle.exportKey('pkcs8', options.keys.privateKey)),
  };
}

type StoredKeyAndCertificate = { certDerB64: string; keySealed: string };

/**
 * One key pair and certificate in NVRAM, made on first use. Reading, making and storing run in the
 * record's NVRAM turn, so two first uses at once make one certificate, and the one in RAM is the
 * one in NVRAM.
 */
export class SealedCertificateStore<Make> {
  private current: KeyAndCertificate | undefined;
  readonly #record: RecordSpec<StoredKeyAndCertificate>;

  constructor(
    private readonly nvram: Nvram,
    private readonly secrets: SecretBox,
    recordName: string,
    private readonly keyContext: string,
    private readonly maker: (make: Make) => Promise<KeyAndCertificate>,
  ) {
    this.#record = { name: recordName, version: 1, schema: z.object({ certDerB64: z.string(), keySealed: z.string() }), factory: () => ({ certDerB64: '', keySealed: '' }) };
  }

  get(make: Make): Promise<KeyAndCertificate> {
    return this.nvram.exclusive(this.#record, async (turn) => (await this.stored(turn)) ?? this.make(turn, make));
  }

  /** The certificate if one was made already (none is made here). */
  async existing(): Promise<KeyAndCertificate | undefined> {
    return this.current ?? this.nvram.exclusive(this.#record, (turn) => this.stored(turn));
  }

  regenerate(make: Make): Promise<KeyAndCertificate> {
    return this.nvram.exclusive(this.#record, (turn) => this.make(turn, make));
  }

  private async stored(turn: RecordTurn<StoredKeyAndCertificate>): Promise<KeyAndCertificate | undefined> {
    if (this.current) return this.current;
    const stored = await turn.load();
    const key = stored.keySealed ? await this.secrets.open(stored.keySealed, this.keyContext) : undefined;
    if (stored.certDerB64 && key) this.current = { certDer: fromBase64(stored.certDerB64), keyPkcs8Der: fromBase64(key) };
    return this.current;
  }

  /** Make, store, then (only when stored) take into use. */
  private async make(turn: RecordTurn<StoredKeyAndCertificate>, make: Make): Promise<KeyAndCertificate> {
    const made = await this.maker(make);
    await turn.save({ certDerB64: toBase64(made.certDer), keySealed: await this.secrets.seal(toBase64(made.keyPkcs8Der), this.keyContext) });
    this.current = made;
    return made;
  }
}
