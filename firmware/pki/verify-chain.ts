/**
 * The device's own trust decision for a TLS server (DESIGN.md rule 4): does the chain the server
 * sent lead to a certificate in the device CA store, is every certificate valid at DEVICE time,
 * and (when the admin asked for it) does the certificate name the configured host?
 *
 * RFC 5280 §6.1 path validation, as the device applies it: build the path from the server's
 * certificate to a trust anchor (issuer name + signature, trust anchors preferred, bounded by
 * PKI_CHAIN_MAX_CERTS; the server's order of the other certificates does not matter), then check
 * every certificate on it and collect EVERY problem as a flag (Mbed TLS style): validity at
 * `nowMs` (§4.1.2.5), basicConstraints cA and keyUsage keyCertSign on each issuer (§4.2.1.9,
 * §4.2.1.3), pathLenConstraint (§4.2.1.9), name constraints (§4.2.1.10, name-constraints.ts),
 * unknown critical extensions (§4.2), extKeyUsage serverAuth (§4.2.1.12; an absent extension
 * means any purpose), keyUsage digitalSignature or keyEncipherment on the leaf when present,
 * accepted algorithms (RSA PKCS#1 v1.5 and RSA-PSS with SHA-256/384/512, RSA 2048–8192 bits;
 * ECDSA P-256/P-384), and the host (host-match.ts, RFC 9525). Certificates are read by x509.ts
 * and signatures checked with WebCrypto; no X.509 library is involved.
 *
 * Certificate policies (§4.2.1.4, §6.1.3 (d)–(f)): the device's initial policy set is anyPolicy
 * and it never asks for an explicit policy, so by §6.1.5 the policy tree cannot fail a path unless
 * a CA demands explicit policy (policyConstraints). certificatePolicies and inhibitAnyPolicy are
 * therefore understood (they cannot change the verdict); policyConstraints and policyMappings are
 * not processed, so a path with either marked critical is refused (§4.2).
 *
 * The clock is read once by the caller and passed in as `nowMs`. A clock before
 * WALL_PLAUSIBLE_AFTER_MS fails closed with `clockNotSet` alone: nothing else is attempted.
 * `verifyChain` never throws: malformed input is a problem value.
 *
 * Deliberately not done (as on Canon and most printers): revocation (CRL, OCSP, OCSP stapling),
 * AIA fetching of missing intermediates, Certificate Transparency, trust anchor constraints
 * beyond the certificate itself, policy processing beyond the above. The trust anchor's own
 * validity and CA flags ARE checked (as Mbed TLS does), its self-signature is not (it is trusted
 * by being in the store).
 *
 * A signature once verified is remembered by the fingerprints of the certificate and its issuer
 * (PKI_VERIFIED_SIGNATURES_MAX of them, RAM only): a signature's validity never changes, so the
 * same server's chain on the next connection costs no public-key operation. Everything else
 * (validity at `nowMs`, constraints, the host) is checked every time.
 */
import { PKI_CHAIN_MAX_CERTS, PKI_VERIFIED_SIGNATURES_MAX, WALL_PLAUSIBLE_AFTER_MS } from '../defaults.ts';
import { parseCertificate, type CertSummary, type ParsedCertificate } from './cert-info.ts';
import type { CertProblem, CertRole } from './cert-problems.ts';
import { matchHost } from './host-match.ts';
import { nameConstraintViolation } from './name-constraints.ts';
import { equalBytes, OID, sameName, verifySignature } from './x509.ts';

export interface VerifyChainOptions {
  /** Device wall-clock time, ms since the epoch, read once for this verification. */
  readonly nowMs: number;
  /** The device CA store (CaStore.anchorsDer()). */
  readonly trustAnchorsDer: readonly Uint8Array[];
  /** The configured server name or IP. Omit to check the chain only (no CN / SAN check). */
  readonly expectedHost?: string;
}

export interface ChainVerdict {
  readonly trusted: boolean;
  /** Every problem found; empty exactly when `trusted`. */
  readonly problems: readonly CertProblem[];
  /** The path as far as it was built: the server's certificate first, the trust anchor last. */
  readonly path: readonly CertSummary[];
}

/** Extensions the device processes; any other critical extension is refused. */
const UNDERSTOOD_EXTENSIONS: ReadonlySet<string> = new Set([
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.15', // keyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.19', // basicConstraints
  '2.5.29.30', // nameConstraints (name-constraints.ts)
  '2.5.29.32', // certificatePolicies (cannot change the verdict: see the header)
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.37', // extKeyUsage
  '2.5.29.54', // inhibitAnyPolicy (cannot change the verdict: see the header)
]);

const EKU_SERVER_AUTH = 'serverAuth';
const EKU_ANY = 'anyExtendedKeyUsage';

interface PathNode {
  readonly parsed: ParsedCertificate;
  readonly anchor: boolean;
}

/** Verify a server's chain (leaf first, as TlsInfo.peerChainDer) at device time. Never throws. */
export async function verifyChain(chainDer: readonly Uint8Array[], options: VerifyChainOptions): Promise<ChainVerdict> {
  try {
    return await verify(chainDer, options);
  } catch (e) {
    // Fail closed on anything unforeseen; the reason goes to the admin and the log.
    return { trusted: false, problems: [{ kind: 'malformed', position: -1, reason: `could not be checked (${e instanceof Error ? e.message : String(e)})` }], path: [] };
  }
}

/** "subject fingerprint>issuer fingerprint" of signatures verified, oldest first. */
const verifiedSignatures = new Set<string>();

/** Does `issuer`'s key verify the signature on `cert`? Remembered when it does. */
async function signedBy(cert: ParsedCertificate, issuer: ParsedCertificate): Promise<boolean> {
  const pair = `${cert.summary.fingerprintSha256}>${issuer.summary.fingerprintSha256}`;
  if (verifiedSignatures.has(pair)) return true;
  if (!(await verifySignature(cert.cert, issuer.cert.publicKey))) return false;
  if (verifiedSignatures.size >= PKI_VERIFIED_SIGNATURES_MAX) verifiedSignatures.delete(verifiedSignatures.values().next().value!);
  verifiedSignatures.add(pair);
  return true;
}

async function verify(chainDer: readonly Uint8Array[], options: VerifyChainOptions): Promise<ChainVerdict> {
  const { nowMs } = options;
  if (!Number.isFinite(nowMs) || nowMs < WALL_PLAUSIBLE_AFTER_MS) {
    return untrusted([{ kind: 'clockNotSet', deviceTimeMs: nowMs }], []);
  }
  if (chainDer.length === 0) return untrusted([{ kind: 'emptyChain' }], []);
  if (chainDer.length > PKI_CHAIN_MAX_CERTS) return untrusted([{ kind: 'chainTooLong', count: chainDer.length, max: PKI_CHAIN_MAX_CERTS }], []);

  const problems: CertProblem[] = [];
  const presented: ParsedCertificate[] = [];
  for (const [position, der] of chainDer.entries()) {
    const parsed = await parseCertificate(der);
    if (parsed.ok) presented.push(parsed.value);
    else if (position === 0) return untrusted([{ kind: 'malformed', position, reason: parsed.reason }], []);
    else problems.push({ kind: 'malformed', position, reason: parsed.reason });
  }
  const anchors: ParsedCertificate[] = [];
  for (const der of options.trustAnchorsDer) {
    const parsed = await parseCertificate(der);
    if (parsed.ok) anchors.push(parsed.value); // the CA store admitted it; an unreadable anchor anchors nothing
  }

  const leaf = presented[0]!;
  const built = await buildPath(leaf, presented.slice(1), anchors);
  problems.push(...built.problems);
  const path = built.path;
  problems.push(...checkPath(path, nowMs));
  if (options.expectedHost !== undefined) {
    const match = matchHost(options.expectedHost, leaf.summary);
    if (!match.matched) problems.push({ kind: 'hostMismatch', expectedHost: options.expectedHost, presentedNames: match.presentedNames });
  }

  const top = path[path.length - 1]!;
  const outside = nameConstraintViolation(path.map((node) => node.parsed));
  if (outside !== undefined) problems.push({ kind: 'untrusted', issuer: top.parsed.summary.subject, detail: outside });
  const anchored = top.anchor;
  // Defensive: an unanchored path always carries a reason (buildPath gives one on every exit).
  if (!anchored && problems.length === 0) problems.push({ kind: 'untrusted', issuer: top.parsed.summary.issuer });
  const unique = dedupe(problems);
  const summaries = path.map((node) => node.parsed.summary);
  // `anchored` alone is not enough: a path with any problem is never trusted.
  return anchored && unique.length === 0 ? { trusted: true, problems: [], path: summaries } : untrusted(unique, summaries);
}

function untrusted(problems: CertProblem[], path: CertSummary[]): ChainVerdict {
  return { trusted: false, problems, path };
}

/**
 * Greedy path building from the leaf: at each step the issuer is a certificate whose subject is
 * the current issuer name and whose key verifies the current signature, trust anchors first, then
 * the server's other certificates (each used at most once). Stops at a trust anchor. Work is
 * bounded: at most PKI_CHAIN_MAX_CERTS steps, each trying only the name-matching candidates.
 */
async function buildPath(
  leaf: ParsedCertificate,
  others: readonly ParsedCertificate[],
  anchors: readonly ParsedCertificate[],
): Promise<{ path: PathNode[]; problems: CertProblem[] }> {
  const isAnchor = (c: ParsedCertificate) => anchors.some((a) => equalBytes(a.der, c.der));
  const path: PathNode[] = [{ parsed: leaf, anchor: isAnchor(leaf) }];
  const problems: CertProblem[] = [];

  while (!path[path.length - 1]!.anchor) {
    const current = path[path.length - 1]!;
    const cert = current.parsed;
    const role = roleAt(path.length - 1, cert);
    if (path.length > PKI_CHAIN_MAX_CERTS) {
      problems.push({ kind: 'chainTooLong', count: path.length, max: PKI_CHAIN_MAX_CERTS });
      break;
    }
    const used = (c: ParsedCertificate) => path.some((n) => equalBytes(n.parsed.der, c.der));
    const candidates = [...anchors.map((c) => ({ c, anchor: true })), ...others.filter((c) => !isAnchor(c)).map((c) => ({ c, anchor: false }))].filter(
      ({ c }) => !used(c) && sameName(c.cert.subject, cert.cert.issuer),
    );

    if (cert.summary.selfIssued && candidates.length === 0) {
      // A server certificate that signs itself and is no CA: the CA store could never hold it.
      if (path.length === 1 && !cert.summary.isCa) problems.push({ kind: 'selfSigned', subject: cert.summary.subject });
      // A root the store does not hold (a self-signed CA certificate may be imported).
      else problems.push({ kind: 'untrusted', issuer: cert.summary.subject });
      break;
    }
    if (candidates.length === 0) {
      // The server's own certificate alone, issuer unknown: the missing intermediate is the specific problem.
      problems.push(path.length === 1 ? { kind: 'missingIntermediate', subject: cert.summary.subject, issuer: cert.summary.issuer } : { kind: 'untrusted', issuer: cert.summary.issuer });
      break;
    }
    if (cert.signature.unsupported !== undefined) {
      problems.push({ kind: 'unsupportedAlgorithm', role, subject: cert.summary.subject, detail: cert.signature.unsupported });
      break;
    }

    let next: PathNode | undefined;
    let unusableKey: ParsedCertificate | undefined;
    for (const { c, anchor } of candidates) {
      if (c.keyUnsupported !== undefined) {
        unusableKey ??= c;
        continue;
      }
      if (c.key.kind !== cert.signature.family) continue;
      if (await signedBy(cert, c)) {
        next = { parsed: c, anchor };
        break;
      }
    }
    if (next) {
      path.push(next);
      continue;
    }
    if (unusableKey) {
      problems.push({ kind: 'unsupportedAlgorithm', role: roleAt(path.length, unusableKey), subject: unusableKey.summary.subject, detail: unusableKey.keyUnsupported! });
    } else if (cert.summary.selfIssued) {
      // Same name as a certificate we hold, but not signed by it: an unknown root (or an impostor).
      problems.push({ kind: 'untrusted', issuer: cert.summary.subject });
    } else {
      problems.push({ kind: 'badSignature', role, subject: cert.summary.subject, issuer: cert.summary.issuer });
    }
    break;
  }
  return { path, problems };
}

/** Every per-certificate check on the built path (anchored or not), all problems collected. */
function checkPath(path: readonly PathNode[], nowMs: number): CertProblem[] {
  const problems: CertProblem[] = [];
  for (const [i, node] of path.entries()) {
    const c = node.parsed;
    const s = c.summary;
    const role = roleAt(i, c);

    if (s.notAfterMs < nowMs) problems.push({ kind: 'expired', role, subject: s.subject, notAfterMs: s.notAfterMs, deviceTimeMs: nowMs });
    if (s.notBeforeMs > nowMs) problems.push({ kind: 'notYetValid', role, subject: s.subject, notBeforeMs: s.notBeforeMs, deviceTimeMs: nowMs });
    if (c.keyUnsupported !== undefined) problems.push({ kind: 'unsupportedAlgorithm', role, subject: s.subject, detail: c.keyUnsupported });
    for (const oid of c.criticalExtensions) {
      if (!UNDERSTOOD_EXTENSIONS.has(oid)) problems.push({ kind: 'unknownCriticalExtension', role, subject: s.subject, oid });
    }

    if (i === 0) continue;
    // An issuer: RFC 5280 §4.2.1.9 (cA) and §4.2.1.3 (keyCertSign when keyUsage is present).
    const basicPresent = c.cert.extensions.some((e) => e.oid === OID.basicConstraints);
    if (!s.isCa) problems.push({ kind: 'notCa', role, subject: s.subject, reason: basicPresent ? 'ca-false' : 'no-basic-constraints' });
    else if (s.keyUsage !== undefined && !s.keyUsage.includes('keyCertSign')) problems.push({ kind: 'notCa', role, subject: s.subject, reason: 'no-key-cert-sign' });
    // pathLenConstraint: the most non-self-issued intermediate CA certificates that may follow.
    if (s.isCa && s.pathLen !== undefined) {
      const casBelow = path.slice(1, i).filter((n) => !n.parsed.summary.selfIssued).length;
      if (casBelow > s.pathLen) problems.push({ kind: 'pathLenExceeded', role, subject: s.subject, pathLen: s.pathLen, casBelow });
    }
  }

  const leaf = path[0]!.parsed.summary;
  if (leaf.extKeyUsage !== undefined && !leaf.extKeyUsage.includes(EKU_SERVER_AUTH) && !leaf.extKeyUsage.includes(EKU_ANY)) {
    problems.push({ kind: 'noServerAuth', subject: leaf.subject, extKeyUsage: leaf.extKeyUsage });
  }
  if (leaf.keyUsage !== undefined && !leaf.keyUsage.includes('digitalSignature') && !leaf.keyUsage.includes('keyEncipherment')) {
    problems.push({ kind: 'badKeyUsage', subject: leaf.subject, keyUsage: leaf.keyUsage });
  }
  return problems;
}

/** leaf for the server's own certificate, root for a self-issued CA, intermediate for any other CA. */
function roleAt(index: number, cert: ParsedCertificate): CertRole {
  if (index === 0) return 'leaf';
  return cert.summary.selfIssued ? 'root' : 'intermediate';
}

function dedupe(problems: readonly CertProblem[]): CertProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = JSON.stringify(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
