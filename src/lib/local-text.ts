/**
 * Text a person reads in Danish or English: the titles and descriptions of contracts, policies,
 * purposes and client systems. A file may give one string for both languages or `{ da, en }`;
 * the loaders turn either into a LocalText, so every page and report picks its language the
 * same way.
 */

export type Lang = 'da' | 'en';

export interface LocalText {
  readonly da: string;
  readonly en: string;
}

/** The JSON Schema of such a text in a file: a string, or `{ da, en }`, each at most `max` characters. */
export function localTextSchema(max: number) {
  const text = { type: 'string', minLength: 1, maxLength: max } as const;
  return {
    anyOf: [text, { type: 'object', additionalProperties: false, required: ['da', 'en'], properties: { da: text, en: text } }],
  } as const;
}

/**
 * A file's text as a LocalText: one string serves both languages.
 *
 * @example
 * localText('Jobcentre case system');             // { da: 'Jobcentre case system', en: 'Jobcentre case system' }
 * localText({ da: 'Jobcentret', en: 'Jobcentre' }); // as given
 */
export function localText(value: string | LocalText): LocalText {
  return typeof value === 'string' ? { da: value, en: value } : { da: value.da, en: value.en };
}

/** Whether the file gave the text in both languages (a string serves both, and so is not Danish for sure). */
export function isBilingual(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'da' in value && 'en' in value;
}
