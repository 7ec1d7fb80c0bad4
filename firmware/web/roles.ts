/**
 * Roles and what each may reach, in one table. Modelled on Canon's Remote UI: only
 * Administrator, NetworkAdmin and DeviceAdmin reach device management; a GeneralUser can log in
 * and see the portal but no settings.
 */
import type { SectionName } from '../settings/schemas.ts';

export const ROLES = ['Administrator', 'NetworkAdmin', 'DeviceAdmin', 'GeneralUser'] as const;
export type Role = (typeof ROLES)[number];

/** Who may read and change each settings section. */
export const SECTION_ROLES: Readonly<Record<SectionName, readonly Role[]>> = {
  device: ['Administrator', 'DeviceAdmin'],
  datetime: ['Administrator', 'DeviceAdmin'],
  email: ['Administrator', 'NetworkAdmin'],
  // Canon's manual: OAuth 2.0 (Microsoft) by Administrator or NetworkAdmin, OAuth 2.0 (Google) by Administrator only.
  oauthMicrosoft: ['Administrator', 'NetworkAdmin'],
  oauthGoogle: ['Administrator'],
  certificates: ['Administrator', 'NetworkAdmin'],
  security: ['Administrator'],
  // Canon's NetworkAdmin role is for exactly these (TCP/IP settings).
  network: ['Administrator', 'NetworkAdmin'],
};

/** Other capabilities that are not a settings section. */
export const CAPABILITY_ROLES = {
  /** Set the device's date and time (RTC). */
  setClock: ['Administrator', 'DeviceAdmin'],
  /** List, add, change and delete login accounts. */
  manageAccounts: ['Administrator'],
  /** Read the device event log. */
  readEvents: ['Administrator', 'NetworkAdmin', 'DeviceAdmin'],
  /** Read the send job log (operators' names and destinations: personal data). */
  readJobLog: ['Administrator', 'NetworkAdmin', 'DeviceAdmin'],
  /** List, add, change and delete the address book's entries (the panel's destinations). */
  manageAddressBook: ['Administrator', 'DeviceAdmin'],
  /** Export the settings to a file and import them from one (every section at once). */
  transferSettings: ['Administrator'],
} as const satisfies Record<string, readonly Role[]>;

export type Capability = keyof typeof CAPABILITY_ROLES;

export function mayUseSection(role: Role, section: SectionName): boolean {
  return SECTION_ROLES[section].includes(role);
}

export function mayDo(role: Role, capability: Capability): boolean {
  return (CAPABILITY_ROLES[capability] as readonly Role[]).includes(role);
}
