/** Log port: where the firmware's log lines leave the device (console, syslog, a file). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Log {
  write(level: LogLevel, component: string, message: string, fields?: Readonly<Record<string, unknown>>): void;
}
