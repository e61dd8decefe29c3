import type { Lang } from '../lib/local-text.js';
import type { Policy } from './types.js';

/**
 * A policy's legal basis as audit records, disclosures and deliveries cite it: the GDPR article,
 * the Art. 9 basis if any, and the national provisions, separated by "; ". The national
 * provisions are written in Danish (statute and section), so the text needs no translation.
 */
export function legalBasisText(policy: Policy): string {
  const b = policy.legalBasis;
  return [b.gdpr, b.gdprSpecial, b.national].filter((x) => x !== undefined && x !== '').join('; ');
}

/** "Art. 6(1)(e)", "Art. 9(2)(b)": a GDPR article, paragraph and point as the policies write them. */
const GDPR_ARTICLE = /\bArt\. ([0-9]+)\(([0-9]+)\)(?:\(([a-z])\))?/g;

/** The marker older example policies put in their legal-basis text: "(example: to be confirmed …)". */
const EXAMPLE_MARKER = /\s*\(example[^()]*\)/gi;

/**
 * A recorded legal-basis text as a reader sees it, in Danish or English: the GDPR articles cited
 * the way a Danish lawyer writes them ("databeskyttelsesforordningens art. 6, stk. 1, litra e")
 * or as "GDPR Art. 6(1)(e)", and without the "(example: …)" markers that records made under
 * older example policies carry (whether a policy is an example is said elsewhere, in words).
 *
 * @example
 * basisForReader('Art. 6(1)(e); Forvaltningsloven § 28, stk. 1', 'da');
 * // 'Databeskyttelsesforordningens art. 6, stk. 1, litra e; Forvaltningsloven § 28, stk. 1'
 */
export function basisForReader(text: string, lang: Lang): string {
  const plain = text
    .replace(EXAMPLE_MARKER, '')
    .replace(/ and (?=Art\. 9)/g, '; ')
    .replace(/\bGDPR (?=Art\.)/g, '');
  const cited = plain.replace(GDPR_ARTICLE, (_all, article: string, paragraph: string, point: string | undefined) =>
    lang === 'da'
      ? `databeskyttelsesforordningens art. ${article}, stk. ${paragraph}${point !== undefined ? `, litra ${point}` : ''}`
      : `GDPR Art. ${article}(${paragraph})${point !== undefined ? `(${point})` : ''}`,
  );
  return cited.charAt(0).toUpperCase() + cited.slice(1);
}
