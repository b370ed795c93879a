/**
 * Per-agent results remembered between snapshots of one repository.
 *
 * What an agent's grants, own capability and hygiene, guardrail and risk
 * findings are depends on its own document and on the repository around it:
 * the configuration, the day and every document that is not an Agent (tools,
 * data classes, people, teams, guardrails, catalogs). `mandate diff` and
 * `mandate simulate` load two or three sides that usually differ in a few
 * agent files; with one memo shared by those loads, the second side computes
 * only what its changed agents need. Agent documents are compared by
 * identity, which the parse cache gives to every unchanged blob, so a memo
 * can never return a result computed from different content.
 *
 * Results that depend on other agents (the delegation closure of capability,
 * risk over a closed capability) are reused only when the inputs they were
 * computed from are the same objects; delegation references are always
 * checked again.
 */
import type { Capability } from './capability';
import type { Finding } from './finding';
import type { DenyEntry, Grant } from './model';

/** An agent's references resolved against the non-agent documents (delegation excluded). */
export interface AgentReferences {
  grants: Grant[];
  denies: DenyEntry[];
  findings: Finding[];
}

/** Everything remembered for one agent document. */
export interface AgentResults {
  references?: AgentReferences;
  own?: Capability;
  /** The effective capability of a delegating agent and the own capabilities (its own first) it was closed over. */
  closed?: { parts: Capability[]; capability: Capability };
  hygiene?: Finding[];
  guardrails?: Finding[];
  /** Risk findings and the effective capability they were judged on. */
  risk?: { capability: Capability; findings: Finding[] };
}

/** Remembers per-agent results while the context (configuration, day, non-agent documents) stays the same. */
export class AgentMemo {
  private context: readonly unknown[] = [];
  private readonly results = new Map<object, AgentResults>();

  /** Starts a snapshot: keeps what is remembered when `context` is element-wise identical to the last one, else forgets it. */
  enter(context: readonly unknown[]): void {
    const same = context.length === this.context.length && context.every((item, index) => item === this.context[index]);
    if (!same) this.results.clear();
    this.context = context;
  }

  /** The results remembered for an agent document, created empty on first use. */
  of(doc: object): AgentResults {
    let results = this.results.get(doc);
    if (!results) {
      results = {};
      this.results.set(doc, results);
    }
    return results;
  }
}
