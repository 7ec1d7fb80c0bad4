/**
 * The passwords everyone tries first: the device refuses them as new passwords when the Login
 * Security setting "Refuse Common Passwords" is on (NIST SP 800-63B §5.1.1.2: compare against
 * values known to be commonly used or compromised).
 *
 * About a hundred, on purpose: the heads of the well-known lists (NCSC's top of Have I Been
 * Pwned, SplashData's and NordPass's yearly lists), their usual variations, the words of other
 * languages' offices, and what printers ship or technicians type (vendor names, `7654321`,
 * `x-admin`, `initpass`). A full breached-password corpus does not fit a printer's flash;
 * entries shorter than the 8-character floor are kept because they are what an attacker tries
 * first, and cost nothing. Compared case-insensitively (`Password` is `password`).
 *
 * Not done: leetspeak folding and "common word plus digits" patterns; the list names the
 * variations that are actually common instead.
 */

const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  // The heads of the published lists.
  '123456', '123456789', '12345678', '1234567890', '12345', '1234567', '1234', '123123', '123123123',
  '111111', '000000', '00000000', '654321', '666666', '121212', '112233', '11223344', '12341234',
  '123321', '87654321', '987654321', '0987654321', '12345678910', '123456a', '123456789a', 'a123456',
  'password', 'password1', 'password12', 'password123', 'password!', 'passw0rd', 'p@ssw0rd', 'p@ssword',
  'pass1234', 'passpass', 'qwerty', 'qwerty1', 'qwerty123', 'qwertyui', 'qwertyuiop', 'qwer1234',
  'asdfghjk', 'asdfghjkl', 'asdf1234', 'zxcvbnm', 'zxcvbnm1', '1q2w3e4r', '1q2w3e4r5t', 'q1w2e3r4',
  '1qaz2wsx', 'zaq12wsx', 'qazwsxedc', '123qwe', '123qweasd', 'abc123', 'abc12345', 'abcd1234',
  'abcdefgh', 'iloveyou', 'iloveyou1', 'letmein', 'letmein1', 'welcome', 'welcome1', 'welcome123',
  'monkey', 'dragon', 'master', 'shadow', 'sunshine', 'princess', 'football', 'baseball', 'superman',
  'starwars', 'whatever', 'trustno1', 'computer', 'internet', 'changeme', 'secret', 'test1234', 'testtest',
  // Other languages' "password".
  'passwort', 'motdepasse', 'contrasena', 'wachtwoord', 'salasana',
  // What printers ship and technicians type.
  'admin', 'admin1', 'admin123', 'admin1234', 'adminadmin', 'admin00', 'administrator', 'root', 'toor',
  'guest', 'user', 'user1234', 'default', 'service', 'support', 'access', 'initpass', 'x-admin', 'sysadm',
  'printer', 'printer1', 'printer123', 'scanner', '7654321', '1234567812345678',
  'canon', 'xerox', 'ricoh', 'sharp', 'kyocera', 'brother', 'epson', 'lexmark', 'konica', 'minolta',
]);

/** Whether `password` is on the list, ignoring case. */
export function isCommonPassword(password: string): boolean {
  return COMMON_PASSWORDS.has(password.toLowerCase());
}

/** How many passwords the list holds (for the tests and the docs). */
export const COMMON_PASSWORD_COUNT = COMMON_PASSWORDS.size;
