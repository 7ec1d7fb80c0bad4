/** One figure as `make bench` prints it: `BENCH <name> <value> <unit>`, fractions to `digits` places. */
export function benchLine(name: string, value: number, unit: string, digits = 1): void {
  process.stdout.write(`BENCH ${name} ${Number.isInteger(value) ? value : value.toFixed(digits)} ${unit}\n`);
}
