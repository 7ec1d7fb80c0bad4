/**
 * The simulator's own PKI: the CAs and server certificates of the emulated cloud.
 *
 * Two parallel chains, because real servers present either kind and the device must verify both:
 *   RSA 2048 / SHA-256 (node-forge, test-pki.ts)   root → issuing CA → one leaf per emulated host
 *   ECDSA P-256 / SHA-256 (pkijs, ecdsa-test-pki.ts) root → issuing CA → one leaf per emulated host
 *
 * The two roots are the device's factory CA store (`factoryCaDer`). They are kept in `stateDir`
 * as PEM (certificate + PKCS#8 key) so the factory store stays valid across simulator restarts,
 * and are made again only when a file is missing or unreadable, the key does not match the
 * certificate, or the root is not valid at the simulated now. Everything below the roots is made
 * fresh at each start, relative to the simulated now (STYLE.md habit 7), so leaves never expire
 * under a test: issuing CAs now−30 d … now+3 y, leaves now−1 d … now+90 d (cloud-defaults.ts).
 *
 * `issueFor` makes odd certificates for certificate-swap scenarios (tls-levers.ts): expired, not
 * yet valid, for the wrong host or a wildcard name, from a CA the device does not trust, self-signed,
 * or sent without the issuing CA.
 *
 * RSA key generation costs ~150 ms a key and no test looks at the key itself, so RSA keys are made
 * once per role (root, issuing CA, leaf, untrusted root; `rsaKeyFor`) and kept in a cache across
 * processes (sim-key-cache.ts, which checks a cached key before using it): every start of a
 * simulator in one process (a scenario library run boots dozens) reuses them, every new process
 * reads them, and all RSA leaves share the leaf key. The roles never share a key, so a
 * certificate from the untrusted root can never verify against the simulator's own. ECDSA keys are
 * cheap (a few milliseconds, measured here), so each ECDSA certificate has its own and none is cached.
 *
 * Deliberately not done: CRLs, OCSP stapling, certificate transparency SCTs, P-384 roots.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  EMULATED_HOSTS,
  INTERMEDIATE_NOT_AFTER_MS,
  INTERMEDIATE_NOT_BEFORE_MS,
  LEAF_NOT_AFTER_MS,
  LEAF_NOT_BEFORE_MS,
  ROOT_CA_NOT_AFTER_MS,
  ROOT_CA_NOT_BEFORE_MS,
  type EmulatedHostName,
} from './cloud-defaults.ts';
import { createEcdsaRootCa, createEcdsaSelfSignedLeaf, ecdsaCaFromPem, issueEcdsaCertificate, type EcdsaCertificate } from './ecdsa-test-pki.ts';
import { cachedRsaKeyPem, defaultKeyCacheDir } from './sim-key-cache.ts';
import { caFromPem, createRootCa, createSelfSignedLeaf, issueCertificate, rsaKeyPairFromPem, type TestCertificate } from './test-pki.ts';
import type forge from 'node-forge';

export type KeyAlgorithm = 'rsa' | 'ecdsa';

/** What a TLS server presents: certificate chain (leaf first, without the root unless a scenario sends it) and key. */
export interface TlsIdentity {
  readonly algorithm: KeyAlgorithm;
  /** Leaf, then the issuing CA unless the server leaves it out, PEM; for a TLS server's `cert`. */
  readonly certChainPem: string;
  /** PKCS#8 PEM; for a TLS server's `key`. */
  readonly keyPem: string;
  /** The same chain as DER, leaf first. */
  readonly chainDer: readonly Uint8Array[];
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

export interface RootCertificate {
  readonly algorithm: KeyAlgorithm;
  readonly commonName: string;
  readonly certPem: string;
  readonly certDer: Uint8Array;
}

export interface IssueForOptions {
  /** Default: the PKI's now − 1 day. */
  readonly notBeforeMs?: number;
  /** Default: the PKI's now + 90 days. */
  readonly notAfterMs?: number;
  /** subjectAltName DNS names; default: the real host's names (or just `host`). An empty list makes a CN-only certificate. */
  readonly dnsNames?: readonly string[];
  /** Default: the real host's CN (or `host`). */
  readonly commonName?: string;
  /** ECDSA P-256 chain instead of RSA. */
  readonly ecdsa?: boolean;
  /**
   * 'sim': the simulator's issuing CA; 'untrusted': a root CA that is not in the device's factory
   * store; 'self': the leaf signs itself and is no CA. Default 'sim'.
   */
  readonly issuer?: 'sim' | 'untrusted' | 'self';
  /**
   * Whether the chain sent carries the issuer after the leaf. Default: yes for 'sim' (its
   * intermediate), no for 'untrusted' (a root, which servers leave out). false with 'sim' is the
   * missing-intermediate case; true with 'untrusted' sends that root along, as a TLS-inspecting
   * proxy sends its own CA. A self-signed leaf is always sent alone.
   */
  readonly sendIssuer?: boolean;
}

export interface SimPki {
  readonly roots: { readonly rsa: RootCertificate; readonly ecdsa: RootCertificate };
  /** Both roots, PEM, for a test client's `ca` option. */
  readonly rootsPem: string;
  /** DER of both roots, for the device's factory CA store. */
  readonly factoryCaDer: readonly Uint8Array[];
  /** Why a root was (re)made at this start, e.g. "rsa: no root in the state directory"; empty if both were loaded. */
  readonly rootEvents: readonly string[];
  /** The standard certificate for an emulated host. */
  identity(host: EmulatedHostName, algorithm: KeyAlgorithm): TlsIdentity;
  /** An odd certificate for certificate-swap scenarios. */
  issueFor(host: string, options?: IssueForOptions): Promise<TlsIdentity>;
}

export interface SimPkiOptions {
  /** Where the root CAs are kept (created if missing). */
  readonly stateDir: string;
  /** The simulated now, ms since the epoch; every validity is relative to it. */
  readonly nowMs: number;
}

const ROOT_NAMES = { rsa: 'MFP Simulator Root CA (RSA)', ecdsa: 'MFP Simulator Root CA (ECDSA)' } as const;
const ISSUER_NAMES = { rsa: 'MFP Simulator TLS Issuing CA (RSA)', ecdsa: 'MFP Simulator TLS Issuing CA (ECDSA)' } as const;
/** The CN of the CA behind `issuer: 'untrusted'`, which the device's factory store does not hold. */
export const UNTRUSTED_ROOT_NAME = 'Untrusted Test Root CA';
const ROOT_FILES = {
  rsa: { cert: 'sim-root-ca-rsa.pem', key: 'sim-root-ca-rsa.key.pem' },
  ecdsa: { cert: 'sim-root-ca-ecdsa.pem', key: 'sim-root-ca-ecdsa.key.pem' },
} as const;

export async function createSimPki(options: SimPkiOptions): Promise<SimPki> {
  const { nowMs } = options;
  await mkdir(options.stateDir, { recursive: true });
  const rootEvents: string[] = [];

  // Started together; a loaded root leaves its key unused (it is kept for the next world).
  const [rootKey, issuerKey, leafKey] = [rsaKeyFor('root'), rsaKeyFor('issuer'), rsaKeyFor('leaf')];
  const rsaRoot = await loadOrMakeRoot(options.stateDir, 'rsa', nowMs, rootEvents, caFromPem, async () =>
    createRootCa({ commonName: ROOT_NAMES.rsa, keyPair: await rootKey, notBeforeMs: nowMs - ROOT_CA_NOT_BEFORE_MS, notAfterMs: nowMs + ROOT_CA_NOT_AFTER_MS }),
  );
  const ecRoot = await loadOrMakeRoot(options.stateDir, 'ecdsa', nowMs, rootEvents, ecdsaCaFromPem, () =>
    createEcdsaRootCa({ commonName: ROOT_NAMES.ecdsa, notBeforeMs: nowMs - ROOT_CA_NOT_BEFORE_MS, notAfterMs: nowMs + ROOT_CA_NOT_AFTER_MS }),
  );

  const caWindow = { notBeforeMs: nowMs - INTERMEDIATE_NOT_BEFORE_MS, notAfterMs: nowMs + INTERMEDIATE_NOT_AFTER_MS };
  const rsaIssuer = issueCertificate(rsaRoot, { commonName: ISSUER_NAMES.rsa, isCa: true, pathLen: 0, keyPair: await issuerKey, ...caWindow });
  const ecIssuer = await issueEcdsaCertificate(ecRoot, { commonName: ISSUER_NAMES.ecdsa, isCa: true, pathLen: 0, ...caWindow });

  const leafWindow = { notBeforeMs: nowMs - LEAF_NOT_BEFORE_MS, notAfterMs: nowMs + LEAF_NOT_AFTER_MS };
  const rsaLeafKey = await leafKey;
  const identities = new Map<string, TlsIdentity>();
  for (const [host, info] of Object.entries(EMULATED_HOSTS)) {
    const subject = { commonName: info.commonName, dnsNames: info.dnsNames, ...leafWindow };
    identities.set(`${host} rsa`, rsaIdentity(issueCertificate(rsaIssuer, { ...subject, keyPair: rsaLeafKey }), rsaIssuer, subject));
    identities.set(`${host} ecdsa`, ecdsaIdentity(await issueEcdsaCertificate(ecIssuer, subject), ecIssuer, subject));
  }

  // A CA the device does not trust, made on first use (one per algorithm).
  let untrusted: Promise<{ rsa: TestCertificate; ecdsa: EcdsaCertificate }> | undefined;
  const untrustedCas = () =>
    (untrusted ??= (async () => ({
      rsa: createRootCa({ commonName: UNTRUSTED_ROOT_NAME, keyPair: await rsaKeyFor('untrusted-root'), notBeforeMs: nowMs - ROOT_CA_NOT_BEFORE_MS, notAfterMs: nowMs + ROOT_CA_NOT_AFTER_MS }),
      ecdsa: await createEcdsaRootCa({ commonName: UNTRUSTED_ROOT_NAME, notBeforeMs: nowMs - ROOT_CA_NOT_BEFORE_MS, notAfterMs: nowMs + ROOT_CA_NOT_AFTER_MS }),
    }))());

  const roots = { rsa: rootCertificate('rsa', rsaRoot), ecdsa: rootCertificate('ecdsa', ecRoot) };
  return {
    roots,
    rootsPem: roots.rsa.certPem + roots.ecdsa.certPem,
    factoryCaDer: [roots.rsa.certDer, roots.ecdsa.certDer],
    rootEvents,
    identity(host, algorithm) {
      const found = identities.get(`${host} ${algorithm}`);
      if (!found) throw new Error(`SimPki.identity: no ${algorithm} certificate for ${host}`);
      return found;
    },
    async issueFor(host, issueOptions = {}) {
      const known = (EMULATED_HOSTS as Record<string, { commonName: string; dnsNames: readonly string[] } | undefined>)[host.toLowerCase()];
      const subject = {
        commonName: issueOptions.commonName ?? known?.commonName ?? host,
        dnsNames: issueOptions.dnsNames ?? known?.dnsNames ?? [host],
        notBeforeMs: issueOptions.notBeforeMs ?? leafWindow.notBeforeMs,
        notAfterMs: issueOptions.notAfterMs ?? leafWindow.notAfterMs,
      };
      if (issueOptions.issuer === 'self') {
        return issueOptions.ecdsa
          ? ecdsaIdentity(await createEcdsaSelfSignedLeaf(subject), undefined, subject)
          : rsaIdentity(createSelfSignedLeaf({ ...subject, keyPair: rsaLeafKey }), undefined, subject);
      }
      const viaUntrusted = issueOptions.issuer === 'untrusted';
      const sendIssuer = issueOptions.sendIssuer ?? !viaUntrusted;
      if (issueOptions.ecdsa) {
        const issuer = viaUntrusted ? (await untrustedCas()).ecdsa : ecIssuer;
        return ecdsaIdentity(await issueEcdsaCertificate(issuer, subject), sendIssuer ? issuer : undefined, subject);
      }
      const issuer = viaUntrusted ? (await untrustedCas()).rsa : rsaIssuer;
      return rsaIdentity(issueCertificate(issuer, { ...subject, keyPair: rsaLeafKey }), sendIssuer ? issuer : undefined, subject);
    },
  };
}

type RsaRole = 'root' | 'issuer' | 'leaf' | 'untrusted-root';
const rsaKeys = new Map<RsaRole, Promise<forge.pki.rsa.KeyPair>>();

/** The moduli of the roles' keys this process holds, to keep the roles apart. */
const rsaModuli = new Map<RsaRole, string>();

/**
 * The process's RSA key for one role of the PKI, read from the key cache or made on first use
 * (see the file header) on libuv's thread pool, so the roles' keys are made side by side. A cached
 * key that is already another role's (a cache file copied over another) is not used: that role
 * gets a key of its own, made for this process.
 */
function rsaKeyFor(role: RsaRole): Promise<forge.pki.rsa.KeyPair> {
  let key = rsaKeys.get(role);
  if (!key) {
    key = (async () => {
      let pair = rsaKeyPairFromPem(await cachedRsaKeyPem(defaultKeyCacheDir(), role));
      if ([...rsaModuli].some(([other, modulus]) => other !== role && modulus === pair.publicKey.n.toString(16))) {
        pair = rsaKeyPairFromPem(await cachedRsaKeyPem(undefined, role));
      }
      rsaModuli.set(role, pair.publicKey.n.toString(16));
      return pair;
    })();
    rsaKeys.set(role, key);
    // A failed generation is not kept: the next start tries again.
    key.catch(() => rsaKeys.delete(role));
  }
  return key;
}

/** TLS server options presenting one or more identities (e.g. RSA and ECDSA; the client's signature algorithms pick). */
export function tlsServerOptions(identities: readonly TlsIdentity[]): { cert: string[]; key: string[] } {
  if (identities.length === 0) throw new Error('tlsServerOptions: at least one identity is needed');
  return { cert: identities.map((i) => i.certChainPem), key: identities.map((i) => i.keyPem) };
}

interface Subject {
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

/** The leaf, then `sentIssuer` when the server sends it (servers leave a root out of the chain they send). */
function rsaIdentity(leaf: TestCertificate, sentIssuer: TestCertificate | undefined, subject: Subject): TlsIdentity {
  const chain = sentIssuer ? [leaf, sentIssuer] : [leaf];
  return {
    algorithm: 'rsa',
    certChainPem: chain.map((c) => c.certPem).join(''),
    keyPem: leaf.keyPem,
    chainDer: chain.map((c) => c.certDer),
    ...subject,
  };
}

function ecdsaIdentity(leaf: EcdsaCertificate, sentIssuer: EcdsaCertificate | undefined, subject: Subject): TlsIdentity {
  const chain = sentIssuer ? [leaf, sentIssuer] : [leaf];
  return {
    algorithm: 'ecdsa',
    certChainPem: chain.map((c) => c.certPem).join(''),
    keyPem: leaf.keyPem,
    chainDer: chain.map((c) => c.certDer),
    ...subject,
  };
}

function rootCertificate(algorithm: KeyAlgorithm, root: { commonName: string; certPem: string; certDer: Uint8Array }): RootCertificate {
  return { algorithm, commonName: root.commonName, certPem: root.certPem, certDer: root.certDer };
}

async function loadOrMakeRoot<T extends { certPem: string; keyPem: string }>(
  stateDir: string,
  algorithm: KeyAlgorithm,
  nowMs: number,
  events: string[],
  load: (certPem: string, keyPem: string) => T | Promise<T>,
  make: () => T | Promise<T>,
): Promise<T> {
  const files = ROOT_FILES[algorithm];
  const certPath = join(stateDir, files.cert);
  const keyPath = join(stateDir, files.key);
  let problem: string;
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    const x509 = new X509Certificate(certPem);
    if (!x509.checkPrivateKey(createPrivateKey(keyPem))) problem = 'the key does not match the certificate';
    else if (!(Date.parse(x509.validFrom) <= nowMs && nowMs <= Date.parse(x509.validTo))) problem = `not valid at the simulated now (${x509.validFrom} … ${x509.validTo})`;
    else return await load(certPem, keyPem);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    problem = code === 'ENOENT' ? 'no root in the state directory' : `unreadable (${(e as Error).message})`;
  }
  events.push(`${algorithm}: ${problem}; made a new root CA in ${stateDir}`);
  const root = await make();
  await writeFile(certPath, root.certPem);
  await writeFile(keyPath, root.keyPem, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  return root;
}
