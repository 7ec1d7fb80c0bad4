/**
 * The password policy: the one check of a new password, wherever one is set (an admin adding an
 * account or resetting its password, the user's own change, the forced change of an initial
 * password included; accounts.ts runs it before it hashes). Like a certificate check it collects
 * every rule a password breaks, and one table says each as a sentence an admin can act on.
 *
 * The rules (NIST SP 800-63B §5.1.1.2, and a printer's "password policy" settings):
 * - at least `minLength` characters (Unicode code points, as NIST counts) and at most
 *   PASSWORD_MAX_LENGTH;
 * - never only whitespace, never one character repeated (`aaaaaaaa`): always, whatever the
 *   settings, as no site wants those;
 * - at least `characterClasses` of lowercase, uppercase, digits and symbols (anything else:
 *   punctuation, spaces, letters without case), when set;
 * - not the user name and not containing it, ignoring case (names shorter than
 *   PASSWORD_USER_NAME_CONTAINED_MIN only as the whole password), when set;
 * - not on the common-password list (common-passwords.ts), ignoring case, when set.
 *
 * Not done: the device name or vendor words as context words beyond the list, history of earlier
 * passwords, expiry (NIST: no periodic changes). Login never checks the policy: a stricter policy
 * applies from the next password set, and locks no one out.
 */
import { PASSWORD_MAX_LENGTH, PASSWORD_USER_NAME_CONTAINED_MIN } from '../defaults.ts';
import type { SecuritySettings } from '../settings/schemas.ts';
import { isCommonPassword } from './common-passwords.ts';

export interface PasswordPolicy {
  /** Characters (code points). */
  readonly minLength: number;
  /** Characters (code points). */
  readonly maxLength: number;
  /** How many of the four classes must appear, 0–4. */
  readonly characterClasses: number;
  readonly refuseUserName: boolean;
  readonly refuseCommon: boolean;
}

/** A rule a password breaks. */
export type PasswordRule = 'blank' | 'too-short' | 'too-long' | 'one-character' | 'character-classes' | 'user-name' | 'common';

export interface PasswordProblem {
  readonly rule: PasswordRule;
  /** The rule as an admin reads it at the password field. */
  readonly message: string;
}

const CLASS_NAMES = 'lowercase, uppercase, digits, symbols';

/** Each rule as a sentence, for the policy in force (one table). */
const RULE_MESSAGES: Readonly<Record<PasswordRule, (policy: PasswordPolicy) => string>> = {
  blank: () => 'Must be more than spaces.',
  'too-short': (p) => `At least ${p.minLength} characters.`,
  'too-long': (p) => `At most ${p.maxLength} characters.`,
  'one-character': () => 'Must not be one character repeated.',
  'character-classes': (p) => (p.characterClasses >= 4 ? `Use all of: ${CLASS_NAMES}.` : `Use at least ${p.characterClasses} of: ${CLASS_NAMES}.`),
  'user-name': () => 'Must not contain the user name.',
  common: () => 'This password is too common: choose another.',
};

/** The policy the Login Security settings set. */
export function passwordPolicyOf(security: SecuritySettings): PasswordPolicy {
  return {
    minLength: security.passwordMinLength,
    maxLength: PASSWORD_MAX_LENGTH,
    characterClasses: security.passwordCharacterClasses,
    refuseUserName: security.passwordRefuseUserName,
    refuseCommon: security.passwordRefuseCommon,
  };
}

/** Every rule of `policy` that `password`, as the password of `userName`, breaks; [] when it may be set. */
export function checkPassword(password: string, userName: string, policy: PasswordPolicy): PasswordProblem[] {
  const broken: PasswordRule[] = [];
  const chars = [...password];
  const blank = password.trim() === '';
  if (blank) broken.push('blank');
  if (chars.length < policy.minLength) broken.push('too-short');
  if (chars.length > policy.maxLength) broken.push('too-long');
  if (!blank && chars.length > 1 && chars.every((c) => c === chars[0])) broken.push('one-character');
  if (characterClassesIn(password) < policy.characterClasses) broken.push('character-classes');
  if (policy.refuseUserName && containsUserName(password, userName)) broken.push('user-name');
  if (policy.refuseCommon && isCommonPassword(password)) broken.push('common');
  return broken.map((rule) => ({ rule, message: RULE_MESSAGES[rule](policy) }));
}

/** The policy in one line, for the hint under a password field. */
export function describePasswordPolicy(policy: PasswordPolicy): string {
  const parts = [`${policy.minLength}–${policy.maxLength} characters`];
  if (policy.characterClasses > 0) parts.push(policy.characterClasses >= 4 ? `all of: ${CLASS_NAMES}` : `at least ${policy.characterClasses} of: ${CLASS_NAMES}`);
  if (policy.refuseUserName) parts.push('not containing the user name');
  if (policy.refuseCommon) parts.push('not a common password');
  return `${parts.join('; ')}.`;
}

/** How many of lowercase, uppercase, digits and symbols (anything else) `password` uses. */
export function characterClassesIn(password: string): number {
  const classes = [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{Ll}\p{Lu}\p{Nd}]/u];
  return classes.filter((c) => c.test(password)).length;
}

function containsUserName(password: string, userName: string): boolean {
  const name = userName.toLowerCase();
  if (name === '') return false;
  const text = password.toLowerCase();
  return name.length < PASSWORD_USER_NAME_CONTAINED_MIN ? text === name : text.includes(name);
}
