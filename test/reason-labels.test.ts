/**
 * Every reason code a DPO or a citizen can meet has words: the DPO pages label every deny reason
 * and every consent record's reason in Danish and English (src/dpo/texts), and the citizen's access
 * report every deny reason (src/audit/report.ts). A code without words shows as the bare code.
 */
import { CONSENT_AUDIT, CONSENT_NOT_IN_FORCE, DENY_REASONS } from '../src/audit/reasons.js';
import { reasonLabel } from '../src/audit/report.js';
import { texts } from '../src/dpo/texts/index.js';

const DPO_CODES = [...DENY_REASONS, CONSENT_NOT_IN_FORCE, ...Object.values(CONSENT_AUDIT)];
const REPORT_CODES = [...DENY_REASONS, CONSENT_NOT_IN_FORCE];

it.each(DPO_CODES)('the DPO pages say %s in words, in Danish and English', (code) => {
  const [da, en] = (['da', 'en'] as const).map((lang) => (texts(lang).reasons as Readonly<Record<string, string | undefined>>)[code]);
  expect(da).toEqual(expect.any(String));
  expect(en).toEqual(expect.any(String));
  expect(da).not.toBe(en);
});

it.each(REPORT_CODES)("the citizen's access report says %s in words, in Danish and English", (code) => {
  const label = reasonLabel(code);
  expect(label.da).not.toBe(code);
  expect(label.en).not.toBe(code);
});
