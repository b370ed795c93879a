import type { ApprovalRequirementDoc, ConfigDoc } from './documents';
import type { RuleId } from './rule-catalog';

/** mandate.yaml with every default filled in (FORMAT.md, Files). */
export interface ResolvedConfig {
  roots: string[];
  defaultBranch?: string;
  reviewIntervalDays: number;
  maxFileBytes: number;
  ruleSeverities: Map<RuleId, 'error' | 'warning' | 'off'>;
  admins?: string[];
  defaultApproval: ApprovalRequirementDoc;
}

/** The defaults a repository without mandate.yaml gets. */
export const DEFAULT_CONFIG: Readonly<ResolvedConfig> = {
  roots: ['policies', 'controls'],
  reviewIntervalDays: 180,
  maxFileBytes: 1_048_576,
  ruleSeverities: new Map(),
  defaultApproval: { count: 1, from: ['owner', 'team'] },
};

/** The resolved configuration of a Config document (already schema-checked), or the defaults. */
export function resolveConfig(doc: ConfigDoc | undefined, ruleSeverities: Map<RuleId, 'error' | 'warning' | 'off'>): ResolvedConfig {
  if (!doc) return { ...DEFAULT_CONFIG, ruleSeverities };
  return {
    roots: doc.roots ?? DEFAULT_CONFIG.roots,
    defaultBranch: doc.defaultBranch,
    reviewIntervalDays: doc.reviewIntervalDays ?? DEFAULT_CONFIG.reviewIntervalDays,
    maxFileBytes: doc.maxFileBytes ?? DEFAULT_CONFIG.maxFileBytes,
    ruleSeverities,
    admins: doc.admins,
    defaultApproval: doc.defaultApproval ?? DEFAULT_CONFIG.defaultApproval,
  };
}
