/**
 * The certificate problems (firmware/pki/cert-problems.ts): every problem kind has a stable,
 * unique device code, a sentence with the problem's facts filled in, and a remedy of its own from
 * the device-code table that fits the problem.
 */
import { describe, expect, it } from 'vitest';
import { menuPath } from '../../firmware/menu.ts';
import { CERT_PROBLEM_KINDS, explainProblem, explainProblems, problemCode, type CertProblem, type CertProblemKind } from '../../firmware/pki/cert-problems.ts';

const NOW = Date.UTC(2026, 10, 22, 10);
const LEAF = 'CN=smtp.example.com, O=Example';
const CA = 'CN=Example Issuing CA, O=Example';

/** One example of every kind; the Record type makes a forgotten kind a compile error. */
const EXAMPLES: { [K in CertProblemKind]: Extract<CertProblem, { kind: K }> } = {
  clockNotSet: { kind: 'clockNotSet', deviceTimeMs: Date.UTC(2024, 0, 1) },
  untrusted: { kind: 'untrusted', issuer: CA },
  expired: { kind: 'expired', role: 'leaf', subject: LEAF, notAfterMs: Date.UTC(2026, 0, 5), deviceTimeMs: NOW },
  notYetValid: { kind: 'notYetValid', role: 'intermediate', subject: CA, notBeforeMs: Date.UTC(2027, 2, 1), deviceTimeMs: NOW },
  hostMismatch: { kind: 'hostMismatch', expectedHost: 'smtp.example.com', presentedNames: ['smtp.example.net', 'mail.example.net'] },
  missingIntermediate: { kind: 'missingIntermediate', subject: LEAF, issuer: CA },
  selfSigned: { kind: 'selfSigned', subject: LEAF },
  badSignature: { kind: 'badSignature', role: 'leaf', subject: LEAF, issuer: CA },
  notCa: { kind: 'notCa', role: 'intermediate', subject: CA, reason: 'ca-false' },
  pathLenExceeded: { kind: 'pathLenExceeded', role: 'intermediate', subject: CA, pathLen: 0, casBelow: 1 },
  noServerAuth: { kind: 'noServerAuth', subject: LEAF, extKeyUsage: ['clientAuth'] },
  badKeyUsage: { kind: 'badKeyUsage', subject: LEAF, keyUsage: ['keyCertSign'] },
  unsupportedAlgorithm: { kind: 'unsupportedAlgorithm', role: 'leaf', subject: LEAF, detail: 'sha1WithRSAEncryption signatures are not accepted (SHA-1 is too weak)' },
  unknownCriticalExtension: { kind: 'unknownCriticalExtension', role: 'leaf', subject: LEAF, oid: '1.3.6.1.4.1.99999.1' },
  malformed: { kind: 'malformed', position: 1, reason: 'not in DER encoding' },
  emptyChain: { kind: 'emptyChain' },
  chainTooLong: { kind: 'chainTooLong', count: 12, max: 8 },
};

describe('certificate problem table', () => {
  it('has a #8xx code, a sentence and a remedy for every kind', () => {
    expect(CERT_PROBLEM_KINDS.sort()).toEqual(Object.keys(EXAMPLES).sort());
    for (const kind of CERT_PROBLEM_KINDS) {
      const { code, message, remedy, transient } = explainProblem(EXAMPLES[kind]);
      expect(code, kind).toMatch(/^#8[5-6]\d$/);
      expect(code).toBe(problemCode(kind));
      expect(transient, kind).toBe(false);
      expect(message.length, kind).toBeGreaterThan(25);
      expect(remedy.length, kind).toBeGreaterThan(30);
      expect(remedy, kind).toMatch(/[.)]$/);
      expect(message, kind).toMatch(/[.)]$/);
      expect(message, kind).not.toMatch(/undefined|NaN|\[object|\$\{/);
    }
  });

  it('gives every kind its own code', () => {
    const codes = CERT_PROBLEM_KINDS.map(problemCode);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('keeps the codes stable (they are printed on job logs and in manuals)', () => {
    expect(Object.fromEntries(CERT_PROBLEM_KINDS.map((k) => [k, problemCode(k)]))).toEqual({
      clockNotSet: '#850',
      untrusted: '#851',
      expired: '#852',
      notYetValid: '#853',
      hostMismatch: '#854',
      missingIntermediate: '#855',
      badSignature: '#856',
      notCa: '#857',
      pathLenExceeded: '#858',
      noServerAuth: '#859',
      badKeyUsage: '#860',
      unsupportedAlgorithm: '#861',
      unknownCriticalExtension: '#862',
      malformed: '#863',
      emptyChain: '#864',
      chainTooLong: '#865',
      selfSigned: '#866',
    });
  });

  it('fills the facts into the sentence', () => {
    const say = (p: CertProblem) => explainProblem(p).message;
    expect(say(EXAMPLES.expired)).toBe(`The server's certificate “${LEAF}” expired on 2026-01-05 (device time 2026-11-22).`);
    expect(say(EXAMPLES.hostMismatch)).toContain('The certificate is for smtp.example.net, mail.example.net, not smtp.example.com.');
    expect(say(EXAMPLES.clockNotSet)).toMatch(/^The device clock reads 2024-01-01: certificates cannot be checked/);
    expect(explainProblem(EXAMPLES.clockNotSet).remedy).toContain('Set the date and time (Management → Date/Time)');
    expect(say(EXAMPLES.notYetValid)).toContain(`intermediate CA certificate “${CA}” is not valid until 2027-03-01 (device time 2026-11-22)`);
    expect(say(EXAMPLES.untrusted)).toContain(`leads to “${CA}”, which is not in the device's CA store`);
    expect(say({ kind: 'untrusted', issuer: CA, detail: 'pkijs: Failed to meet name constraint' })).toContain('(pkijs: Failed to meet name constraint)');
    expect(say(EXAMPLES.missingIntermediate)).toContain(`without the CA certificate that issued it (“${CA}”)`);
    expect(say(EXAMPLES.pathLenExceeded)).toContain('at most 0 CA certificates below it, but the server\'s chain has 1');
    expect(say(EXAMPLES.malformed)).toContain('certificate 2 of the chain: not in DER encoding');
    expect(say(EXAMPLES.chainTooLong)).toContain('sent 12 certificates; the device checks at most 8');
    expect(say({ kind: 'expired', role: 'root', subject: CA, notAfterMs: Date.UTC(2026, 0, 5), deviceTimeMs: NOW })).toContain('root CA certificate');
  });

  it('gives each problem a remedy that fits it', () => {
    const remedy = (kind: CertProblemKind) => explainProblem(EXAMPLES[kind]).remedy;
    // Importing a CA cannot help where the chain itself is wrong, expired or forged.
    for (const kind of ['badSignature', 'expired', 'notCa', 'pathLenExceeded', 'noServerAuth', 'badKeyUsage', 'selfSigned'] as const) {
      expect(remedy(kind), kind).not.toMatch(/\bimport (the|its) (issuing|CA)/i);
    }
    // A forged signature: the remedy agrees with the message, never "import" or "trust".
    expect(remedy('badSignature')).toMatch(/^Do not trust this server/);
    expect(remedy('expired')).toContain(`correct it (${menuPath('datetime')})`);
    expect(remedy('untrusted')).toContain(`import its certificate (${menuPath('certificates')})`);
    expect(remedy('missingIntermediate')).toMatch(/send the full chain/);
    // The CA store refuses a certificate that is not a CA's: say what can be done instead.
    expect(remedy('selfSigned')).toMatch(/certificate issued by a CA/);
    expect(remedy('selfSigned')).toContain('accepts CA certificates, not a server');
    // Each problem its own remedy; only the two key-usage problems share theirs (the fix is the same certificate).
    expect(remedy('noServerAuth')).toBe(remedy('badKeyUsage'));
    expect(new Set(CERT_PROBLEM_KINDS.map(remedy)).size).toBe(CERT_PROBLEM_KINDS.length - 1);
  });

  it('names the most specific problem when there are several', () => {
    const both = explainProblems([EXAMPLES.untrusted, EXAMPLES.expired])!;
    expect(both.code).toBe('#852');
    expect(both.message.indexOf('expired')).toBeLessThan(both.message.indexOf('not in the device'));
    expect(explainProblems([])).toBeUndefined();
  });

  it('shortens a long list of names and explains a certificate with none', () => {
    const many = Array.from({ length: 9 }, (_, i) => `host${i}.example.net`);
    expect(explainProblem({ kind: 'hostMismatch', expectedHost: 'smtp.example.com', presentedNames: many }).message).toContain(
      'host0.example.net, host1.example.net, host2.example.net, host3.example.net, host4.example.net and 4 more, not smtp.example.com',
    );
    expect(explainProblem({ kind: 'hostMismatch', expectedHost: 'smtp.example.com', presentedNames: [] }).message).toContain('names no server');
  });

  it('never throws on an unreadable clock value', () => {
    expect(explainProblem({ kind: 'clockNotSet', deviceTimeMs: Number.NaN }).message).toContain('an unreadable date');
    expect(explainProblem({ kind: 'clockNotSet', deviceTimeMs: 9e15 }).message).toContain('an unreadable date');
  });
});
