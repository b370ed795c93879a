import type { ValidationResult } from '../../core/validate';

/** SARIF 2.1.0 (placeholder until the renderer lands). */
export function sarifReport(result: ValidationResult): string {
  return JSON.stringify(result.summary);
}
