/**
 * OWASP Top 10 for Agentic Applications (2026) identifiers and titles,
 * embedded as rule metadata (FORMAT.md: reference data, never a governance document).
 */
export const OWASP_AGENTIC_RISKS = {
  ASI01: 'Agent Goal Hijack',
  ASI02: 'Tool Misuse and Exploitation',
  ASI03: 'Identity and Privilege Abuse',
  ASI04: 'Agentic Supply Chain Vulnerabilities',
  ASI05: 'Unexpected Code Execution (RCE)',
  ASI06: 'Memory & Context Poisoning',
  ASI07: 'Insecure Inter-Agent Communication',
  ASI08: 'Cascading Failures',
  ASI09: 'Human-Agent Trust Exploitation',
  ASI10: 'Rogue Agents',
} as const;

/** An OWASP agentic risk id, ASI01..ASI10. */
export type OwaspRiskId = keyof typeof OWASP_AGENTIC_RISKS;
