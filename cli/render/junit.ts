import type { ValidationResult } from '../../core/validate';

/** JUnit XML (placeholder until the renderer lands). */
export function junitReport(result: ValidationResult): string {
  return JSON.stringify(result.summary);
}
