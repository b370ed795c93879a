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

/**
 * Whether a shape may start at `i`: not right after a letter or digit,
 * unless that character ends the previous match (redaction removes it).
 */
function startsWord(text: string, i: number, lastEnd: number): boolean {
  if (i === 0 || i === lastEnd) return true;
  const c = text.charCodeAt(i - 1);
  return c >= 128 || ALNUM[c] === 0;
}

// ---------------------------------------------------------------------------
// Regexes: one global trigger finds where a specific shape may start, then a
// sticky regex for that shape confirms it at exactly that offset.

const TRIGGER = /gh[pousr]_|github_pat_|sk-|xox|xapp-|hooks\.slack\.com\/|A(?:KI|SI|BI|CC)A|-----BEGIN|[Ss][Ee][Cc][Rr][Ee][Tt]/g;

const GITHUB = /gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{82,}/y;
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

/**
 * `text` with every credential-shaped run replaced by `[redacted]`.
 *
 * Repeated until nothing is found: shapes are judged with their neighbours
 * (an AWS secret key must not run into more base64, a high-entropy run is
 * measured whole), so redacting one run can expose another, e.g. the 40
 * characters of `secret: <40 base64>/ghp_…` once the GitHub token after them
 * is gone. Every match is at least 20 characters and `[redacted]` is 10, so
 * the text shrinks each round; in practice a second round finds nothing.
 */
export function redactSecrets(text: string): string {
  for (let matches = findSecrets(text); matches.length > 0; matches = findSecrets(text)) {
    let out = '';
    let at = 0;
    for (const m of matches) {
      out += text.slice(at, m.start) + REDACTED;
      at = m.end;
    }
    text = out + text.slice(at);
  }
  return text;
}

// ---------------------------------------------------------------------------
// Specific shapes

/** The known shapes, in order and non-overlapping. */
function findSpecific(text: string): SecretMatch[] {
  const found: SecretMatch[] = [];
  noPemEndFrom = Infinity;
  let lastEnd = 0;
  TRIGGER.lastIndex = 0;
  for (let m = TRIGGER.exec(text); m !== null; m = TRIGGER.exec(text)) {
    const i = m.index;
    if (shapeAt(text, i, lastEnd)) {
      found.push({ kind: hitKind, start: hitStart, end: hitEnd });
      lastEnd = hitEnd;
      TRIGGER.lastIndex = hitEnd;
    } else {
      TRIGGER.lastIndex = i + 1;
    }
  }
  return found;
}

// The result of `shapeAt`, kept in module state so the scan allocates only
// the matches it returns.
let hitKind: SecretKind = 'high-entropy';
let hitStart = 0;
let hitEnd = 0;
/** PEM END markers are searched once per region: none exists from this offset on. */
let noPemEndFrom = Infinity;

function hit(kind: SecretKind, start: number, end: number): true {
  hitKind = kind;
  hitStart = start;
  hitEnd = end;
  return true;
}

/**
 * Whether a specific shape matches at trigger offset `i` (the previous match
 * ended at `lastEnd`); if so its kind and offsets are in hitKind, hitStart
 * and hitEnd.
 */
function shapeAt(text: string, i: number, lastEnd: number): boolean {
  switch (text.charCodeAt(i)) {
    case 0x67: {
      // g
      if (!startsWord(text, i, lastEnd)) return false;
      const end = stickyEnd(GITHUB, text, i);
      if (end < 0 || isPlaceholder(text, i + (text.startsWith('github_pat_', i) ? 11 : 4), end)) return false;
      return hit('github-token', i, end);
    }
    case 0x73: // s
    case 0x53: // S
      if (!text.startsWith('sk-', i)) return awsSecretAt(text, i);
      if (!startsWord(text, i, lastEnd)) return false;
      if (text.startsWith('sk-ant-', i)) {
        const end = stickyEnd(ANTHROPIC, text, i);
        if (end < 0 || isPlaceholder(text, i + 7, end)) return false;
        return hit('anthropic-key', i, end);
      } else {
        const end = stickyEnd(OPENAI, text, i);
        // Real keys are random base62 with - and _: demand every case and a
        // digit, and refuse phrases (`sk-` + kebab-case words).
        if (end < 0 || !hasMixedClasses(text, i + 3, end)) return false;
        if (looksLikeWords(text, i + 3, end, false) || isPlaceholder(text, i + 3, end)) return false;
        return hit('openai-key', i, end);
      }
    case 0x78: {
      // x
      if (!startsWord(text, i, lastEnd)) return false;
      const end = stickyEnd(SLACK_TOKEN, text, i);
      if (end < 0) return false;
      const body = text.indexOf('-', i) + 1;
      if (!hasDigit(text, body, end) || isPlaceholder(text, body, end)) return false;
      return hit('slack-token', i, end);
    }
    case 0x68: {
      // h
      const end = stickyEnd(SLACK_WEBHOOK, text, i);
      if (end < 0) return false;
      let start = i;
      if (text.startsWith('https://', i - 8)) start = i - 8;
      else if (text.startsWith('http://', i - 7)) start = i - 7;
      if (start < lastEnd) start = i;
      // Like every shape, not glued to a preceding letter or digit.
      if (!startsWord(text, start, lastEnd)) return false;
      return hit('slack-token', start, end);
    }
    case 0x41: {
      // A
      if (!startsWord(text, i, lastEnd)) return false;
      const end = stickyEnd(AWS_ACCESS_KEY, text, i);
      if (end < 0 || isPlaceholder(text, i + 4, end)) return false;
      return hit('aws-access-key', i, end);
    }
    case 0x2d: {
      // -
      let end = stickyEnd(PEM_BEGIN, text, i);
      if (end < 0) return false;
      let blockEnd = -1;
      if (end < noPemEndFrom) {
        PEM_END.lastIndex = end;
        const e = PEM_END.exec(text);
        if (e === null) noPemEndFrom = end;
        else blockEnd = e.index + e[0].length;
      }
      end = blockEnd >= 0 ? blockEnd : endOfLine(text, end);
      return hit('private-key', i, end);
    }
  }
  return false;
}

/** A labelled AWS secret access key: 40 random-looking base64 characters. */
function awsSecretAt(text: string, i: number): boolean {
  const end = stickyEnd(AWS_SECRET_LABELLED, text, i);
  if (end < 0) return false;
  const start = end - AWS_SECRET_LENGTH;
  return isAwsSecretValue(text, start, end) && hit('aws-secret-key', start, end);
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

/**
 * A documentation placeholder such as `ghp_xxxx…`, `sk-ant-api03-xxxx…` or
 * `xoxb-0000-0000-xxxx…`: the letters and digits of the body after the
 * fixed prefix use at most 3 distinct characters, or one character is at
 * least 60% of them. [start, end) is ASCII (the shape regexes ensure it).
 */
function isPlaceholder(text: string, start: number, end: number): boolean {
  let total = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (ALNUM[c] === 1) {
      COUNTS[c]!++;
      total++;
    }
  }
  let distinct = 0;
  let most = 0;
  for (let t = 0; t < TOKEN_CODES.length; t++) {
    const c = TOKEN_CODES[t]!;
    const count = COUNTS[c]!;
    if (count > 0) {
      distinct++;
      if (count > most) most = count;
      COUNTS[c] = 0;
    }
  }
  return distinct <= 3 || most * 5 >= total * 3;
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
 * random: both cases, a digit or `/`/`+`, and not words.
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
 * the high-entropy runs merged in, in order.
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
      } else if (runStart >= 0) {
        if (i - runStart >= MIN_ENTROPY_LENGTH) flushPadded(text, runStart, i, out);
        runStart = -1;
      }
    }
    if (runStart >= 0 && limit - runStart >= MIN_ENTROPY_LENGTH) flushPadded(text, runStart, limit, out);
    if (next === undefined) break;
    out.push(next);
    i = next.end;
  }
  return out;
}

/**
 * Evaluates a run, cut after every `=` that another candidate character
 * follows: base64 only pads at the end, so `KEY=value` is `KEY=` and `value`.
 */
function flushPadded(text: string, start: number, end: number, out: SecretMatch[]): void {
  let from = start;
  for (let i = start + 1; i < end; i++) {
    if (text.charCodeAt(i - 1) === EQ && text.charCodeAt(i) !== EQ) {
      flushRun(text, from, i, out);
      from = i;
    }
  }
  flushRun(text, from, end, out);
}

function flushRun(text: string, start: number, end: number, out: SecretMatch[]): void {
  let bodyEnd = end;
  while (bodyEnd > start && text.charCodeAt(bodyEnd - 1) === EQ) bodyEnd--;
  if (isHighEntropy(text, start, bodyEnd)) out.push({ kind: 'high-entropy', start, end });
}

/**
 * Whether [start, end) (candidate characters, `=` padding stripped) is a
 * high-entropy secret: at least 32 characters with at least 4.5 bits of
 * Shannon entropy per character, and neither an SRI digest nor text that
 * reads as words. A pure hex string (dashes allowed) is exempt as a digest
 * without a special case: 17 symbols carry at most 4.09 bits per character.
 */
function isHighEntropy(text: string, start: number, end: number): boolean {
  const len = end - start;
  if (len < MIN_ENTROPY_LENGTH) return false;
  for (let i = start; i < end; i++) COUNTS[text.charCodeAt(i)]!++;
  let sum = 0;
  for (let t = 0; t < TOKEN_CODES.length; t++) {
    const c = TOKEN_CODES[t]!;
    const count = COUNTS[c]!;
    if (count > 0) {
      sum += count * Math.log2(count);
      COUNTS[c] = 0;
    }
  }
  const bits = Math.log2(len) - sum / len;
  if (bits < MIN_ENTROPY_BITS) return false;
  return !isSriDigest(text, start, end) && !looksLikeWords(text, start, end, true);
}

/** End of the word of candidate characters starting at `i`: the next separator or `end`. */
function wordEnd(text: string, i: number, end: number): number {
  while (i < end && SEPARATOR[text.charCodeAt(i)] !== 1) i++;
  return i;
}

/**
 * Words that are numbers rather than language: at least 4 hex digits with a
 * decimal digit among them (git SHA, UUID group, date, account id), or at
 * most 4 characters with a digit (`v2`, `k8s`, `q99f` in a GHSA id). The
 * word-shape test skips them, so `com/org/repo/commit/<sha>` is judged on
 * `com/org/repo/commit/`.
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
 * entropy alone is not enough. With `skipNumbers`, number words (see
 * `isNumberWord`) are left out. A "hump" is a lower-case run with an
 * optional leading capital; all-capital words count as lower case. The
 * text reads as words
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
      // `SUPPORTED` in `CMAKE_LINK_SUPPORTED` reads like `supported`.
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
