/**
 * Tenant IDs every entry point must refuse (issue 24's table), each with a
 * name for test titles. The rule itself is storage's `tenantIdProblem`;
 * this list is what each entry point's test feeds it from outside.
 */
export const BAD_TENANT_IDS: readonly { name: string; id: string; http: boolean }[] = [
  { name: 'a single dot', id: '.', http: true },
  { name: 'two dots', id: '..', http: true },
  { name: 'a path that climbs', id: '../x', http: true },
  { name: 'a slash', id: 'a/b', http: true },
  { name: 'the empty string', id: '', http: true },
  { name: '151 characters', id: 'a'.repeat(151), http: true },
  { name: 'a NUL byte', id: 'a\u0000b', http: false },
  { name: 'a newline', id: 'a\nb', http: false },
  { name: 'a tab', id: 'a\tb', http: true },
  { name: 'an escape character', id: 'a\u001bb', http: false },
  { name: 'an escaped dot', id: '%2e', http: true },
  { name: 'escaped dots', id: '%2e%2e', http: true },
  { name: 'a space', id: 'team a', http: true },
  { name: 'a Cyrillic look-alike', id: 'tеam-a', http: false },
  { name: 'fullwidth letters', id: 'ｔｅａｍ', http: false },
  { name: 'a one-dot leader', id: '\u2024', http: false },
  { name: 'a division slash', id: 'a\u2215b', http: false },
  { name: 'the reserved state prefix', id: '_promstream', http: true },
];
