// Credential detection for the `secret-in-policy` rule and for redaction
// (CLI.md): known key shapes first, then high-entropy base64-alphabet runs.
// Runs on every governance file, so it is two linear passes over the text
// (one global trigger regex, one character loop) with no per-character
// allocation.

/** A kind of credential shape. */
export type SecretKind =
  | 'github-token'
  | 'openai-key'
  | 'anthropic-key'
  | 'slack-token'
  | 'aws-access-key'
  | 'aws-secret-key'
  | 'private-key'
  | 'high-entropy';

/** One credential-shaped run of text: its kind and [start, end) code-unit offsets. */
export interface SecretMatch {
  kind: SecretKind;
  start: number;
  end: number;
}

/** What every redacted run is replaced by. */
const REDACTED = '[redacted]';

/** Minimum length (without `=` padding) of a high-entropy candidate. */
const MIN_ENTROPY_LENGTH = 32;
/** Shannon entropy, bits per character, at or above which a candidate is a secret. */
const MIN_ENTROPY_BITS = 4.5;

const LABELS: Readonly<Record<SecretKind, string>> = {
  'github-token': 'GitHub token',
  'openai-key': 'OpenAI API key',
  'anthropic-key': 'Anthropic API key',
  'slack-token': 'Slack token',
  'aws-access-key': 'AWS access key ID',
  'aws-secret-key': 'AWS secret access key',
  'private-key': 'private key',
  'high-entropy': 'high-entropy string',
};

/** A human label for a kind, e.g. "GitHub token" (used in messages; never contains the secret). */
export function describeSecretKind(kind: SecretKind): string {
  return LABELS[kind];
}

// ---------------------------------------------------------------------------
// Character tables

const EQ = 0x3d; // '='
const CR = 0x0d;

/** Characters of a high-entropy candidate: [A-Za-z0-9+/=_-]. */
const TOKEN_CHAR = new Uint8Array(128);
/** [A-Za-z0-9]: a specific shape must not start right after one of these. */
const ALNUM = new Uint8Array(128);
/** [0-9a-fA-F]. */
const HEX = new Uint8Array(128);
/** Candidate characters that split words: [-_/+=]. */
const SEPARATOR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const alnum = /[A-Za-z0-9]/.test(ch);
  ALNUM[c] = alnum ? 1 : 0;
  TOKEN_CHAR[c] = alnum || '+/=_-'.includes(ch) ? 1 : 0;
  HEX[c] = /[0-9a-fA-F]/.test(ch) ? 1 : 0;
  SEPARATOR[c] = '+/=_-'.includes(ch) ? 1 : 0;
}
/** The code units TOKEN_CHAR admits, to visit and clear COUNTS. */
const TOKEN_CODES = Uint8Array.from({ length: 128 }, (_, c) => c).filter((c) => TOKEN_CHAR[c] === 1);

const C_OTHER = 0;
const C_LOWER = 1;
const C_UPPER = 2;
const C_DIGIT = 3;
/** Character class per code unit below 128, for the word-shape test. */
const CLASS = new Uint8Array(128);
/** 1 for vowels (with y), either case. */
const VOWEL = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  CLASS[c] = /[a-z]/.test(ch) ? C_LOWER : /[A-Z]/.test(ch) ? C_UPPER : /[0-9]/.test(ch) ? C_DIGIT : C_OTHER;
  VOWEL[c] = /[aeiouyAEIOUY]/.test(ch) ? 1 : 0;
}

/** Shared scratch counter for entropy, indexed by code unit; all zero between calls. */
const COUNTS = new Int32Array(128);

function isAlnumAt(text: string, i: number): boolean {
  if (i < 0 || i >= text.length) return false;
  const c = text.charCodeAt(i);
  return c < 128 && ALNUM[c] === 1;
}

// ---------------------------------------------------------------------------
// Regexes: one global trigger finds where a specific shape may start, then a
// sticky regex for that shape confirms it at exactly that offset.

const TRIGGER = /gh[pousr]_|github_pat_|sk-|xox|xapp-|hooks\.slack\.com\/|A(?:KI|SI|BI|CC)A|-----BEGIN|[Ss][Ee][Cc][Rr][Ee][Tt]/g;

const GITHUB = /gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{82,251}/y;
const ANTHROPIC = /sk-ant-[A-Za-z0-9_-]{32,}/y;
const OPENAI = /sk-(?!ant-)[A-Za-z0-9_-]{32,}/y;
const SLACK_TOKEN = /(?:xox(?:[abprs]|e(?:\.xox[bp])?)|xapp)-[A-Za-z0-9-]{15,}/y;
const SLACK_WEBHOOK =
  /hooks\.slack\.com\/(?:services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/[A-Za-z0-9]{16,}|(?:workflows|triggers)\/T[A-Z0-9]{6,}\/[A-Za-z0-9_/-]{16,})/y;
const AWS_ACCESS_KEY = /(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/y;
/** `secret…` label, a `:`/`=`/`=>`, optional quote, then exactly 40 base64 characters. */
const AWS_SECRET_LABELLED = /secret[a-z_-]{0,24}["']?[ \t]{0,8}(?:=>|[:=])\s{0,8}["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/iy;
const AWS_SECRET_LENGTH = 40;
const PEM_BEGIN = /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/y;
const PEM_END = /-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;

// ---------------------------------------------------------------------------
// Public API

/** Every credential-shaped run in `text`, in order, non-overlapping (specific shapes win over high-entropy). */
export function findSecrets(text: string): SecretMatch[] {
  const specific = findSpecific(text);
  return mergeHighEntropy(text, specific);
}

/** `text` with every credential-shaped run replaced by `[redacted]`. */
export function redactSecrets(text: string): string {
  const matches = findSecrets(text);
  if (matches.length === 0) return text;
  let out = '';
  let at = 0;
  for (const m of matches) {
    out += text.slice(at, m.start) + REDACTED;
    at = m.end;
  }
  return out + text.slice(at);
}

// ---------------------------------------------------------------------------
// Specific shapes

/** The known shapes, in order and non-overlapping. */
function findSpecific(text: string): SecretMatch[] {
  const found: SecretMatch[] = [];
  // END markers are searched once per region: `noPemEndFrom` remembers the
  // offset after which no END marker exists, keeping the scan linear.
  let noPemEndFrom = Infinity;
  let lastEnd = 0;
  TRIGGER.lastIndex = 0;
  for (let m = TRIGGER.exec(text); m !== null; m = TRIGGER.exec(text)) {
    const i = m.index;
    let kind: SecretKind | null = null;
    let start = i;
    let end = -1;
    switch (text.charCodeAt(i)) {
      case 0x67: // g
        if (!isAlnumAt(text, i - 1)) {
          end = stickyEnd(GITHUB, text, i);
          if (end >= 0 && isPlaceholder(text, i + 4, end)) end = -1;
          kind = 'github-token';
        }
        break;
      case 0x73: // s
      case 0x53: // S
        if (m[0] === 'sk-') {
          if (isAlnumAt(text, i - 1)) break;
          if (text.startsWith('sk-ant-', i)) {
            end = stickyEnd(ANTHROPIC, text, i);
            if (end >= 0 && isPlaceholder(text, i + 7, end)) end = -1;
            kind = 'anthropic-key';
          } else {
            end = stickyEnd(OPENAI, text, i);
            // Real keys are random base62 with - and _: demand every case and a
            // digit, and refuse phrases (`sk-` + kebab-case words).
            if (end >= 0 && (!hasMixedClasses(text, i + 3, end) || looksLikeWords(text, i + 3, end, false))) end = -1;
            kind = 'openai-key';
          }
        } else {
          end = stickyEnd(AWS_SECRET_LABELLED, text, i);
          if (end >= 0) {
            start = end - AWS_SECRET_LENGTH;
            if (!isAwsSecretValue(text, start, end)) end = -1;
          }
          kind = 'aws-secret-key';
        }
        break;
      case 0x78: // x
        if (!isAlnumAt(text, i - 1)) {
          end = stickyEnd(SLACK_TOKEN, text, i);
          if (end >= 0 && !hasDigit(text, text.indexOf('-', i) + 1, end)) end = -1;
          kind = 'slack-token';
        }
        break;
      case 0x68: // h
        end = stickyEnd(SLACK_WEBHOOK, text, i);
        if (end >= 0) {
          if (text.startsWith('https://', i - 8)) start = i - 8;
          else if (text.startsWith('http://', i - 7)) start = i - 7;
          if (start < lastEnd) start = i;
        }
        kind = 'slack-token';
        break;
      case 0x41: // A
        if (!isAlnumAt(text, i - 1)) {
          end = stickyEnd(AWS_ACCESS_KEY, text, i);
          if (end >= 0 && isPlaceholder(text, i + 4, end)) end = -1;
          kind = 'aws-access-key';
        }
        break;
      case 0x2d: // -
        end = stickyEnd(PEM_BEGIN, text, i);
        if (end >= 0) {
          let blockEnd = -1;
          if (end < noPemEndFrom) {
            PEM_END.lastIndex = end;
            const e = PEM_END.exec(text);
            if (e === null) noPemEndFrom = end;
            else blockEnd = e.index + e[0].length;
          }
          end = blockEnd >= 0 ? blockEnd : endOfLine(text, end);
        }
        kind = 'private-key';
        break;
    }
    if (kind !== null && end > start) {
      found.push({ kind, start, end });
      lastEnd = end;
      TRIGGER.lastIndex = end;
    } else {
      TRIGGER.lastIndex = i + 1;
    }
  }
  return found;
}

/** End offset of `re` matched exactly at `at`, or -1. */
function stickyEnd(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  return re.test(text) ? re.lastIndex : -1;
}

/** Offset of the line break (or end of text) after `from`, excluding a CR before LF. */
function endOfLine(text: string, from: number): number {
  let nl = text.indexOf('\n', from);
  if (nl < 0) nl = text.length;
  if (nl > from && text.charCodeAt(nl - 1) === CR) nl--;
  return nl;
}

/** A body of one repeated character (`xxxx…`, `0000…`) is a documentation placeholder. */
function isPlaceholder(text: string, start: number, end: number): boolean {
  const first = text.charCodeAt(start);
  for (let i = start + 1; i < end; i++) if (text.charCodeAt(i) !== first) return false;
  return true;
}

function hasDigit(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && CLASS[c] === C_DIGIT) return true;
  }
  return false;
}

/** Lower case, upper case and a digit all present in [start, end). */
function hasMixedClasses(text: string, start: number, end: number): boolean {
  let seen = 0;
  for (let i = start; i < end && seen !== 0b1110; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) seen |= 1 << CLASS[c]!;
  }
  return (seen & 0b1110) === 0b1110;
}

/**
 * 40 characters after a `secret` label are an AWS secret key when they look
 * random: both cases, a digit or `/`/`+`, not hex, not words.
 */
function isAwsSecretValue(text: string, start: number, end: number): boolean {
  let lower = false;
  let upper = false;
  let other = false;
  for (let i = start; i < end; i++) {
    const k = CLASS[text.charCodeAt(i)]!; // the regex guarantees ASCII
    if (k === C_LOWER) lower = true;
    else if (k === C_UPPER) upper = true;
    else other = true;
  }
  return lower && upper && other && !looksLikeWords(text, start, end, false);
}

// ---------------------------------------------------------------------------
// High entropy

/**
 * Walks `text` once, splitting it into candidate runs of [A-Za-z0-9+/=_-]
 * that stop at every specific match, and returns the specific matches with
 * the high-entropy runs merged in, in order. A `=` followed by another
 * candidate character ends a run (base64 only pads at the end), so
 * `KEY=value` yields `KEY=` and `value`.
 */
function mergeHighEntropy(text: string, specific: SecretMatch[]): SecretMatch[] {
  const out: SecretMatch[] = [];
  const n = text.length;
  let i = 0;
  for (let k = 0; k <= specific.length; k++) {
    const next = specific[k];
    const limit = next === undefined ? n : next.start;
    let runStart = -1;
    for (; i < limit; i++) {
      const c = text.charCodeAt(i);
      if (c < 128 && TOKEN_CHAR[c] === 1) {
        if (runStart < 0) runStart = i;
        else if (c !== EQ && text.charCodeAt(i - 1) === EQ) {
          if (i - runStart >= MIN_ENTROPY_LENGTH) flushRun(text, runStart, i, out);
          runStart = i;
        }
      } else if (runStart >= 0) {
        if (i - runStart >= MIN_ENTROPY_LENGTH) flushRun(text, runStart, i, out);
        runStart = -1;
      }
    }
    if (runStart >= 0 && limit - runStart >= MIN_ENTROPY_LENGTH) flushRun(text, runStart, limit, out);
    if (next === undefined) break;
    out.push(next);
    i = next.end;
  }
  return out;
}

function flushRun(text: string, start: number, end: number, out: SecretMatch[]): void {
  let bodyEnd = end;
  while (bodyEnd > start && text.charCodeAt(bodyEnd - 1) === EQ) bodyEnd--;
  if (isHighEntropy(text, start, bodyEnd)) out.push({ kind: 'high-entropy', start, end });
}

/**
 * Whether [start, end) (candidate characters, `=` padding stripped) is a
 * high-entropy secret. Number words (see `isNumberWord`) are left out first,
 * so a commit URL path or a dated id is judged on its other words; what
 * remains must be 32 characters with 4.5 bits per character and must not be
 * an SRI digest or read as words. A pure hex string (dashes allowed) is
 * exempt as a digest without a special case: 17 symbols carry at most 4.09
 * bits per character.
 */
function isHighEntropy(text: string, start: number, end: number): boolean {
  let kept = 0;
  for (let i = start; i < end; i++) {
    const we = wordEnd(text, i, end);
    if (!isNumberWord(text, i, we)) {
      for (let j = i; j < we; j++) COUNTS[text.charCodeAt(j)]!++;
      kept += we - i;
    }
    i = we;
    if (i < end) {
      COUNTS[text.charCodeAt(i)]!++; // the separator
      kept++;
    }
  }
  let sum = 0;
  for (let t = 0; t < TOKEN_CODES.length; t++) {
    const c = TOKEN_CODES[t]!;
    const count = COUNTS[c]!;
    if (count > 0) {
      sum += count * Math.log2(count);
      COUNTS[c] = 0;
    }
  }
  if (kept < MIN_ENTROPY_LENGTH) return false;
  const bits = Math.log2(kept) - sum / kept;
  if (bits < MIN_ENTROPY_BITS) return false;
  return !isSriDigest(text, start, end) && !looksLikeWords(text, start, end, true);
}

/** End of the word of candidate characters starting at `i`: the next separator or `end`. */
function wordEnd(text: string, i: number, end: number): number {
  while (i < end && SEPARATOR[text.charCodeAt(i)] !== 1) i++;
  return i;
}

/**
 * Words that are numbers rather than randomness: at least 4 hex digits with
 * a decimal digit among them (git SHA, UUID group, date, account id), or at
 * most 4 characters with a digit (`v2`, `k8s`, `q99f` in a GHSA id). Random
 * base64 seldom has either: separators are 1 character in 32, and a
 * 4-character word is all hex 1.4% of the time.
 */
function isNumberWord(text: string, start: number, end: number): boolean {
  let digit = false;
  let hex = true;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (CLASS[c] === C_DIGIT) digit = true;
    else if (HEX[c] !== 1) hex = false;
  }
  return digit && (end - start <= 4 || hex);
}

/** Lengths of the base64 body (unpadded) of Subresource Integrity digests. */
const SRI_PREFIXES: ReadonlyArray<readonly [string, number]> = [
  ['sha1-', 27],
  ['sha256-', 43],
  ['sha384-', 64],
  ['sha512-', 86],
];

/** `sha512-<base64>` and friends are digests (npm/SRI integrity), not secrets. */
function isSriDigest(text: string, start: number, end: number): boolean {
  for (const [prefix, bodyLength] of SRI_PREFIXES) {
    if (end - start === prefix.length + bodyLength && text.startsWith(prefix, start)) return true;
  }
  return false;
}

/**
 * Whether [start, end) reads as identifiers or words (kebab-case, camelCase,
 * paths) rather than random characters; English such as
 * `TheQuickBrownFoxJumpsOverTheLazyDog` reaches 4.5 bits per character, so
 * entropy alone is not enough. With `skipNumbers`, number words are left
 * out, as `isHighEntropy` leaves them out of the entropy. A "hump" is a
 * lower-case run with an optional leading capital. The text reads as words
 * when humps average at least 3.25 characters and cover at least half the
 * letters, at least a fifth of lower-case letters are vowels, at most one
 * digit run sits between lower-case letters (`k8s`), and runs of four
 * consonants inside a hump are rare (at most one, plus one per 40
 * characters). Tuned on generated identifiers from English words and
 * abbreviations: random base62/base64 passes for about 2% of 32-40
 * character strings and 0.3% of 64 (the entropy threshold alone already
 * misses 30% of random 32-character strings).
 */
function looksLikeWords(text: string, start: number, end: number, skipNumbers: boolean): boolean {
  let humps = 0;
  let humpChars = 0;
  let letters = 0;
  let lowers = 0;
  let vowels = 0;
  let sandwiched = 0;
  let consonantClusters = 0;
  let kept = 0;
  for (let i = start; i < end; i++) {
    const we = wordEnd(text, i, end);
    if (!skipNumbers || !isNumberWord(text, i, we)) {
      kept += we - i;
      // An all-capitals word (`SUPPORTED` in `CMAKE_LINK_SUPPORTED`) reads as lower case.
      const fold = isAllCaps(text, i, we);
      let prev = C_OTHER;
      let prevCode = 0;
      let runLength = 0; // current hump, leading capital included
      let consonants = 0; // consonants in a row inside the current hump
      let digitsAfterLower = false;
      for (let j = i; j < we; j++) {
        const c = text.charCodeAt(j) | (fold ? 0x20 : 0);
        const k = CLASS[c]!;
        if (k === C_LOWER) {
          lowers++;
          letters++;
          if (prev !== C_LOWER) {
            if (prev === C_DIGIT && digitsAfterLower) sandwiched++;
            const capital = prev === C_UPPER;
            runLength = capital ? 1 : 0;
            consonants = capital && VOWEL[prevCode] === 0 ? 1 : 0;
          }
          runLength++;
          if (VOWEL[c] === 1) {
            vowels++;
            consonants = 0;
          } else if (++consonants === 4) {
            consonantClusters++;
          }
        } else {
          if (prev === C_LOWER) {
            humps++;
            humpChars += runLength;
          }
          if (k === C_UPPER) letters++;
          else if (k === C_DIGIT && prev !== C_DIGIT) digitsAfterLower = prev === C_LOWER;
        }
        prev = k;
        prevCode = c;
      }
      if (prev === C_LOWER) {
        humps++;
        humpChars += runLength;
      }
    }
    i = we;
    if (i < end) kept++;
  }
  return (
    humps > 0 &&
    humpChars * 4 >= humps * 13 && // average hump >= 3.25
    humpChars * 2 >= letters &&
    vowels * 5 >= lowers &&
    sandwiched <= 1 &&
    consonantClusters * 40 <= 40 + kept
  );
}

/** [start, end) has capitals and no lower-case letter. */
function isAllCaps(text: string, start: number, end: number): boolean {
  let upper = false;
  for (let i = start; i < end; i++) {
    const k = CLASS[text.charCodeAt(i)];
    if (k === C_LOWER) return false;
    if (k === C_UPPER) upper = true;
  }
  return upper;
}
