import type { Lang } from '../html.js';
import { da, type Texts } from './da.js';
import { en } from './en.js';

export type { Texts };

const TEXTS: Readonly<Record<Lang, Texts>> = { da, en };

/**
 * The pages' words in one language.
 *
 * @example
 * texts('en').nav.overview // 'Overview'
 */
export function texts(lang: Lang): Texts {
  return TEXTS[lang];
}
