// Prints the plain closing line "N passed, N failed, N skipped" from vitest's JSON report, so a
// reader of the CI log (human or tool) sees the counts without colour codes.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2] ?? 'test/artifacts/vitest.json', 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
process.stdout.write(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped\n`);
process.exit(report.numFailedTests === 0 && report.numTotalTests > 0 ? 0 : 1);
