import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { describeSecretKind, findSecrets, redactSecrets, type SecretKind, type SecretMatch } from '../core/secrets';

// Every fake credential is assembled from parts at run time, so this file
// holds no contiguous credential-shaped text for other scanners to trip on.

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE62 = BASE64.slice(0, 62);

/** `length` characters of `alphabet` from a seeded generator (mulberry32). */
function randomString(alphabet: string, length: number, seed: number): string {
  let state = seed >>> 0;
  let out = '';
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out += alphabet[Math.floor(r * alphabet.length)];
  }
  return out;
}

const alnum = (length: number, seed: number) => randomString(BASE62, length, seed);
const PEM_DASHES = '-'.repeat(5);
const pem = (marker: 'BEGIN' | 'END', type: string) => `${PEM_DASHES}${marker} ${type}${type ? ' ' : ''}PRIVATE KEY${PEM_DASHES}`;
const AWS_DOC_SECRET = 'wJalrXUtnFEMI/K7MDENG/' + 'bPxRfiCYEXAMPLEKEY';

/** The one match expected when `secret` sits between `before` and `after`. */
function expectOnly(before: string, secret: string, after: string, kind: SecretKind): void {
  const text = before + secret + after;
  expect(findSecrets(text)).toEqual([{ kind, start: before.length, end: before.length + secret.length }]);
  expect(redactSecrets(text)).toBe(before + '[redacted]' + after);
}

function kindsOf(text: string): SecretKind[] {
  return findSecrets(text).map((m) => m.kind);
}

describe('describeSecretKind', () => {
  it('labels every kind without echoing anything secret', () => {
    expect(describeSecretKind('github-token')).toBe('GitHub token');
    expect(describeSecretKind('openai-key')).toBe('OpenAI API key');
    expect(describeSecretKind('anthropic-key')).toBe('Anthropic API key');
    expect(describeSecretKind('slack-token')).toBe('Slack token');
    expect(describeSecretKind('aws-access-key')).toBe('AWS access key ID');
    expect(describeSecretKind('aws-secret-key')).toBe('AWS secret access key');
    expect(describeSecretKind('private-key')).toBe('private key');
    expect(describeSecretKind('high-entropy')).toBe('high-entropy string');
  });
});

describe('GitHub tokens', () => {
  it.each(['ghp', 'gho', 'ghu', 'ghs', 'ghr'])('matches %s_ classic tokens', (prefix) => {
    expectOnly('token: ', `${prefix}_` + 'a1B2'.repeat(9), '\n', 'github-token');
    expectOnly('token: "', `${prefix}_` + alnum(36, 1), '"', 'github-token');
  });

  it('matches fine-grained personal access tokens', () => {
    const token = 'github_pat_' + alnum(22, 2) + '_' + alnum(59, 3);
    expectOnly('GITHUB_TOKEN=', token, '', 'github-token');
  });

  it('needs the full length and a word boundary', () => {
    expect(findSecrets('ghp_' + 'a1B2c3'.repeat(5) + 'a1B2c')).toEqual([]);
    expect(kindsOf('ghp_' + alnum(35, 4))).toEqual(['high-entropy']);
    expect(kindsOf('xghp_' + 'a1B2'.repeat(9))).toEqual([]);
  });

  it('leaves documentation placeholders alone', () => {
    expect(findSecrets('token: ghp_' + 'x'.repeat(36))).toEqual([]);
    expect(findSecrets('token: github_pat_' + 'X'.repeat(82))).toEqual([]);
  });
});

describe('OpenAI keys', () => {
  it('matches legacy, project, service-account and admin keys', () => {
    expectOnly('OPENAI_API_KEY=', 'sk-' + alnum(20, 5) + 'T3Blbk' + 'FJ' + alnum(20, 6), '\n', 'openai-key');
    expectOnly('key: ', 'sk-proj-' + 'a1B2-c3D4_'.repeat(15), '', 'openai-key');
    expectOnly('key: ', 'sk-svcacct-' + randomString(BASE62 + '-_', 150, 7), ' ', 'openai-key');
    expectOnly('key: ', 'sk-admin-' + alnum(70, 8), '', 'openai-key');
  });

  it('does not read sk- inside words or in phrases as a key', () => {
    expect(findSecrets('the risk-assessment-for-customer-support-agents-v2 file')).toEqual([]);
    expect(findSecrets('task-management-and-sk-Learn-2024-Roadmap-Plans-for-the-Team')).toEqual([]);
    expect(findSecrets('sk-Learn-2024-Roadmap-Planning-For-The-Platform-Team')).toEqual([]);
  });
});

describe('Anthropic keys', () => {
  it('matches api and admin keys and never calls them OpenAI keys', () => {
    expectOnly('ANTHROPIC_API_KEY=', 'sk-ant-api03-' + randomString(BASE62 + '-_', 93, 9) + 'AA', '\n', 'anthropic-key');
    expectOnly('key: "', 'sk-ant-admin01-' + alnum(93, 10) + 'AA', '"', 'anthropic-key');
    expectOnly('', 'sk-ant-' + 'a1B2'.repeat(10), '', 'anthropic-key');
  });

  it('leaves placeholders alone', () => {
    expect(findSecrets('key: sk-ant-api03-' + 'x'.repeat(95))).toEqual([]);
  });
});

describe('Slack', () => {
  it.each(['xoxb', 'xoxp', 'xoxa', 'xoxr', 'xoxs'])('matches %s- tokens', (prefix) => {
    expectOnly('slack: ', `${prefix}-` + '1234567890-' + '9876543210-' + alnum(24, 11), '\n', 'slack-token');
  });

  it('matches app-level and refresh tokens', () => {
    expectOnly('app: ', 'xapp-1-' + 'A0123ABCDEF-' + '1234567890123-' + randomString('0123456789abcdef', 64, 12), '', 'slack-token');
    expectOnly('refresh: ', 'xoxe.' + 'xoxp-1-' + alnum(140, 13), '', 'slack-token');
  });

  it('matches webhook URLs whole, scheme included', () => {
    const url = 'https://' + 'hooks.slack.com/services/' + 'T0123ABCD/' + 'B0456EFGH/' + alnum(24, 14);
    expectOnly('webhook: "', url, '"', 'slack-token');
  });

  it('leaves short or digit-free tokens and placeholders alone', () => {
    expect(findSecrets('xoxb-your-bot-token-goes-here')).toEqual([]);
    expect(findSecrets('xoxb-123-456')).toEqual([]);
    expect(findSecrets('xoxb-' + '0'.repeat(10) + '-' + '0'.repeat(10) + '-' + 'x'.repeat(24))).toEqual([]);
    expect(findSecrets('see https://hooks.slack.com/services for details')).toEqual([]);
  });
});

describe('AWS', () => {
  it.each(['AKIA', 'ASIA', 'ABIA', 'ACCA'])('matches %s access key ids', (prefix) => {
    expectOnly('aws_access_key_id: ', prefix + 'IOSFODNN7' + 'EXAMPLE', '\n', 'aws-access-key');
  });

  it('needs exactly 16 characters after the prefix and word boundaries', () => {
    expect(findSecrets('AKIA' + 'IOSFODNN7' + 'EXAMPL')).toEqual([]);
    expect(findSecrets('AKIA' + 'IOSFODNN7' + 'EXAMPLES')).toEqual([]);
    expect(findSecrets('XAKIA' + 'IOSFODNN7' + 'EXAMPLE')).toEqual([]);
    expect(findSecrets('AKIA' + 'X'.repeat(16))).toEqual([]);
  });

  it('matches secret access keys next to a secret label', () => {
    expectOnly('aws_secret_access_key: ', AWS_DOC_SECRET, '\n', 'aws-secret-key');
    expectOnly('AWS_SECRET_ACCESS_KEY=', AWS_DOC_SECRET, '', 'aws-secret-key');
    expectOnly('{"SecretAccessKey": "', AWS_DOC_SECRET, '"}', 'aws-secret-key');
    expectOnly('secret:\n  ', AWS_DOC_SECRET, '\n', 'aws-secret-key');
  });

  it('lets unlabelled secret keys fall to high-entropy', () => {
    expectOnly('value: ', AWS_DOC_SECRET, '', 'high-entropy');
  });

  it('does not take hex or words after a secret label for a key', () => {
    expect(findSecrets('secret: ' + 'e3b0c44298fc1c149afb' + 'f4c8996fb92427ae41e4')).toEqual([]);
    expect(findSecrets('secretName: SupportTriageAssistantRole' + 'ForProductionX')).toEqual([]);
  });
});

describe('private keys', () => {
  it('matches a whole PEM block in a YAML literal', () => {
    const block = [pem('BEGIN', 'RSA'), '  ' + randomString(BASE64, 64, 15), '  ' + randomString(BASE64, 20, 16) + '==', '  ' + pem('END', 'RSA')].join('\n');
    expectOnly('key: |\n  ', block, '\nnext: 1\n', 'private-key');
  });

  it('matches blocks of every key type, and escaped single-line blocks', () => {
    for (const type of ['', 'EC', 'OPENSSH', 'ENCRYPTED', 'DSA']) {
      expectOnly('k: ', pem('BEGIN', type) + '\n' + randomString(BASE64, 64, 17) + '\n' + pem('END', type), '', 'private-key');
    }
    expectOnly('"key": "', pem('BEGIN', '') + '\\n' + randomString(BASE64, 64, 18) + '\\n' + pem('END', ''), '",', 'private-key');
  });

  it('runs from BEGIN to the end of the line when there is no END', () => {
    expectOnly('key: ', pem('BEGIN', 'RSA') + 'MIIEow', '\nnext: 1', 'private-key');
    expectOnly('key: ', pem('BEGIN', 'RSA') + 'MIIEow', '\r\nnext: 1', 'private-key');
    expectOnly('key: ', pem('BEGIN', 'RSA'), '', 'private-key');
  });

  it('ignores public keys and certificates markers', () => {
    expect(findSecrets(PEM_DASHES + 'BEGIN PUBLIC KEY' + PEM_DASHES)).toEqual([]);
    expect(findSecrets(PEM_DASHES + 'BEGIN CERTIFICATE' + PEM_DASHES)).toEqual([]);
  });
});

describe('high-entropy strings', () => {
  it('matches random base64, padding included in the match', () => {
    const token = randomString(BASE64, 42, 19) + '==';
    expectOnly('blob: ', token, '\n', 'high-entropy');
  });

  it('matches random base62, base64url and lower-case base36 strings', () => {
    expectOnly('token: ', alnum(48, 20), '', 'high-entropy');
    expectOnly('token: ', randomString(BASE62 + '-_', 64, 21), '', 'high-entropy');
    expectOnly('token: ', randomString('abcdefghijklmnopqrstuvwxyz0123456789', 64, 22), '', 'high-entropy');
  });

  it('splits KEY=value at the = so only the value is redacted', () => {
    const value = alnum(40, 23);
    expectOnly('API_TOKEN=', value, '', 'high-entropy');
    expectOnly('https://example.com/callback?token=', value, '&x=1', 'high-entropy');
  });

  it('needs 32 characters', () => {
    expect(findSecrets(alnum(31, 24))).toEqual([]);
  });

  it('exempts pure hex: git SHAs, SHA-256 digests, UUIDs', () => {
    expect(findSecrets('commit 8e5e7e5ab8b370d6c329' + 'ec480221332ada57f0ab')).toEqual([]);
    expect(findSecrets('sha256: e3b0c44298fc1c149afbf4c8996fb924' + '27ae41e4649b934ca495991b7852b855')).toEqual([]);
    expect(findSecrets('id: 123e4567-e89b-12d3-a456-426614174000')).toEqual([]);
    expect(findSecrets('trace: 4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual([]);
    expect(findSecrets(randomString('0123456789abcdef', 128, 25))).toEqual([]);
  });

  it('exempts SRI integrity digests', () => {
    expect(findSecrets('integrity: sha512-' + randomString(BASE64, 86, 26) + '==')).toEqual([]);
    expect(findSecrets('integrity: sha256-' + randomString(BASE64, 43, 27) + '=')).toEqual([]);
  });
});

describe('ordinary governance text is not a secret', () => {
  const negatives = [
    'support-triage-assistant',
    'customer-support-knowledge-base-retrieval-agent',
    'policies/agents/support-triage-assistant.yaml',
    'resources: [queue/support/**, kb/articles/*, crm/accounts/*/contacts/**/read-only-fields]',
    'internationalization-and-localization-workflow-for-the-documentation-team',
    'the-quick-brown-fox-jumps-over-the-lazy-dog',
    'TheQuickBrownFoxJumpsOverTheLazyDog',
    'Jackdaws-love-my-big-sphinx-of-quartz',
    'Pack-my-box-with-five-dozen-liquor-jugs-QUICKLY',
    'Quarterly-Review-2024-Q3-Jumping-Foxes-Vex-My-Big-QA-Team',
    'SupportTriageAssistantRoleForProductionWorkloads',
    'XMLHttpRequestUploadProgressEventHandlerV2',
    'app/src/main/java/com/Example/MyApp/UI/LoginViewModel',
    'com/example/my-org/Q4_2024/OKRs_and_KPIs/v3-final',
    'MANDATE_POLICY_ROOT_DIRECTORY_FOR_PRODUCTION_AGENTS_V2',
    'CMAKE_C_LINK_LIBRARY_USING_load_archive_SUPPORTED',
    'expires: 2025-12-31',
    'reviewed: 2024-06-01T10:00:00Z',
    'window: 2024-01-15T10:00:00.000Z/2025-01-15T10:00:00.000Z',
    'role: arn:aws:iam::123456789012:role/SupportTriageAssistantProductionRole',
    'arn-aws-iam-123456789012-role-SupportTriage',
    'image: ghcr.io/acme/support-triage-assistant@sha256:' + 'e3b0c44298fc1c149afbf4c8996fb924' + '27ae41e4649b934ca495991b7852b855',
    'see https://github.com/acme/tools/blob/' + '8e5e7e5ab8b370d6c329ec480221332ada57f0ab' + '/policies/agents/x.yaml',
    'see https://github.com/yargs/yargs-parser/commit/' + '6d692953ade099375c6c5e131367968b07ae8470',
    'advisory: https://github.com/advisories/GHSA-2h3h-q99f-3fhc',
    'docs: https://docs.example.com/governance/iso-42001/annex-a/a-6-2-4-ai-system-documentation',
    'tool: mcp://tools.example.com/ticketing/v2/list-open-tickets-for-customer-support-organization',
    'github-actions/checkout/v4/setup-node/v4/upload-artifact',
    'nginx/conf/sites-available/api-gateway-v2-prod',
    'ulid: 01HZX3K5Q8W9Y2M4N6P7R8S9T0',
    'rule: secret-in-policy, secrets manager, client_secret: ${{ secrets.CLIENT_SECRET }}',
  ];

  it.each(negatives)('%s', (text) => {
    expect(findSecrets(text)).toEqual([]);
    expect(redactSecrets(text)).toBe(text);
  });

  it('finds nothing in a realistic agent policy', () => {
    const policy = [
      '# yaml-language-server: $schema=../../schema/agent.schema.json',
      'apiVersion: mandate/v1',
      'kind: Agent',
      'metadata:',
      '  id: support-triage-assistant',
      '  owner: { team: customer-support, github: octocat }',
      '  riskTier: limited',
      '  reviewed: 2024-06-01',
      'spec:',
      '  justification: >-',
      '    Reads incoming support tickets and routes them to the right queue; it',
      '    never replies to customers directly without human review. Approved in',
      '    https://github.com/acme/governance/pull/4821 after the ISO/IEC 42001',
      '    A.6.2.4 documentation review (commit 3f9c2a1b7d4e5f60718293a4b5c6d7e8f9012345).',
      '  permissions:',
      '    - action: tickets.read',
      '      resources: [queue/support/**, kb/articles/*]',
      '      justification: triage-needs-read-access-to-the-whole-support-queue',
      '    - action: tickets.update',
      '      resources: ["queue/support/incoming/**"]',
      '      approval: { count: 2, from: [owner, team:security] }',
      '      expires: 2025-12-31',
      '      rateLimit: { requests: 600, per: 1h }',
      '  tools:',
      '    - id: zendesk-mcp-server-v2.4.1',
      '      vetting: { status: approved, ticket: SEC-2024-0417, digest: sha256:' + 'a'.repeat(0) + '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 }',
    ].join('\n');
    expect(findSecrets(policy)).toEqual([]);
  });
});

describe('findSecrets ordering and redaction', () => {
  it('returns every kind in order with exact offsets, and redacts each', () => {
    const parts: Array<[string, SecretKind | null]> = [
      ['a: ', null],
      ['ghp_' + alnum(36, 30), 'github-token'],
      ['\nb: ', null],
      [randomString(BASE64, 40, 31), 'high-entropy'],
      ['\nc: ', null],
      ['sk-ant-api03-' + alnum(95, 32), 'anthropic-key'],
      [' d: ', null],
      ['AKIA' + 'IOSFODNN7' + 'EXAMPLE', 'aws-access-key'],
      ['\naws_secret_access_key = ', null],
      [AWS_DOC_SECRET, 'aws-secret-key'],
      ['\n', null],
      [pem('BEGIN', 'EC') + '\n' + alnum(60, 33) + '\n' + pem('END', 'EC'), 'private-key'],
      ['\ne: ', null],
      ['sk-proj-' + alnum(100, 34), 'openai-key'],
      ['\n', null],
    ];
    let text = '';
    let redacted = '';
    const expected: SecretMatch[] = [];
    for (const [part, kind] of parts) {
      if (kind !== null) expected.push({ kind, start: text.length, end: text.length + part.length });
      text += part;
      redacted += kind === null ? part : '[redacted]';
    }
    expect(findSecrets(text)).toEqual(expected);
    expect(redactSecrets(text)).toBe(redacted);
  });

  it('lets a specific shape win over the high-entropy run around it', () => {
    const noise = randomString(BASE64.slice(0, 62) + '_', 40, 35);
    const token = 'ghp_' + alnum(36, 36);
    const text = noise + '/' + token + '/' + noise;
    expect(findSecrets(text)).toEqual([
      { kind: 'high-entropy', start: 0, end: 41 },
      { kind: 'github-token', start: 41, end: 81 },
      { kind: 'high-entropy', start: 81, end: text.length },
    ]);
  });

  it('keeps redacting until nothing credential-shaped is left', () => {
    // The 40 characters run into the token, so they are not a key until the
    // token after them is redacted (and they are too repetitive to be
    // high-entropy on their own).
    const value = 'Ab1/'.repeat(10);
    const token = 'ghp_' + alnum(36, 37);
    const text = 'aws_secret_access_key: ' + value + token;
    expect(kindsOf(text)).toEqual(['github-token']);
    expect(redactSecrets(text)).toBe('aws_secret_access_key: [redacted][redacted]');
  });

  it('returns text without secrets unchanged', () => {
    const text = 'kind: Agent\nmetadata: { id: support-triage-assistant }\n';
    expect(redactSecrets(text)).toBe(text);
    expect(redactSecrets('')).toBe('');
    expect(findSecrets('')).toEqual([]);
  });
});

describe('properties', () => {
  const chars = (alphabet: string, minLength: number, maxLength: number) =>
    fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });
  // Whole credentials of every kind, so that matches are common.
  const credential = fc.oneof(
    chars(BASE62, 30, 40).map((body) => 'ghp_' + body),
    chars(BASE62 + '_', 80, 84).map((body) => 'github_pat_' + body),
    chars(BASE62 + '-_', 30, 60).map((body) => 'sk-proj-' + body),
    chars(BASE62 + '-_', 30, 60).map((body) => 'sk-ant-api03-' + body),
    chars(BASE62, 20, 30).map((body) => 'xoxb-' + '1234567890-' + body),
    chars(BASE62, 14, 20).map((body) => 'https://' + 'hooks.slack.com/services/' + 'T0123ABCD/' + 'B0456EFGH/' + body),
    chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 15, 17).map((body) => 'AKIA' + body),
    chars(BASE64, 38, 42).map((body) => 'aws_secret_access_key: ' + body),
    chars(BASE64, 28, 70),
  );
  const fragment = fc.oneof(
    { arbitrary: credential, weight: 3 },
    {
      arbitrary: fc.constantFrom(
        'ghp_',
        'sk-',
        'sk-ant-',
        'xoxb-',
        'hooks.slack.com/services/',
        'AKIA',
        'secret',
        ': ',
        '=',
        '==',
        '"',
        '/',
        '-',
        '_',
        'x',
        ' ',
        '\n',
        '\r\n',
        pem('BEGIN', 'RSA'),
        pem('END', 'RSA'),
        PEM_DASHES + 'BEGIN',
        '[redacted]',
        'support-triage-assistant',
      ),
      weight: 3,
    },
    { arbitrary: chars(BASE64 + '=-_', 0, 12), weight: 1 },
    { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
  );
  const secretish = fc.array(fragment, { maxLength: 24 }).map((parts) => parts.join(''));

  it('generates texts that exercise every kind', () => {
    const seen = new Set<SecretKind>();
    for (const text of fc.sample(secretish, { numRuns: 1000, seed: 42 })) {
      for (const m of findSecrets(text)) seen.add(m.kind);
    }
    expect([...seen].sort()).toEqual(
      (['anthropic-key', 'aws-access-key', 'aws-secret-key', 'github-token', 'high-entropy', 'openai-key', 'private-key', 'slack-token'] as const).slice(),
    );
  });

  function checkMatches(text: string, matches: SecretMatch[]): void {
    let at = 0;
    for (const m of matches) {
      expect(m.start).toBeGreaterThanOrEqual(at);
      expect(m.end).toBeGreaterThan(m.start);
      expect(m.end).toBeLessThanOrEqual(text.length);
      at = m.end;
    }
  }

  it('never throws, and matches are in order, non-overlapping and in bounds', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), secretish), (text) => {
        checkMatches(text, findSecrets(text));
        expect(typeof redactSecrets(text)).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('redacted output contains nothing findSecrets flags', () => {
    fc.assert(
      fc.property(secretish, (text) => {
        expect(findSecrets(redactSecrets(text))).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });

  it('text with no findings is returned unchanged', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 100 }), secretish), (text) => {
        if (findSecrets(text).length === 0) expect(redactSecrets(text)).toBe(text);
      }),
    );
  });
});
