/**
 * HTML built by tagged templates that escape every interpolated value unless it is already
 * Html. Nothing user-controlled reaches a page unescaped; the pages hold no inline script and
 * no inline style (the content security policy forbids both).
 *
 * @example
 * html`<p>${name}</p>`            // name is escaped
 * html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`
 */
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** What a template may interpolate: markup, text, numbers, nothing, or lists of those. */
export type Renderable = Html | string | number | bigint | boolean | null | undefined | readonly Renderable[];

function render(value: Renderable): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Renderable[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Marks trusted markup (built here, e.g. SVG numbers) as Html. Never pass request data. */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** The pages' languages: Danish, their default, and English (their words are in texts/). */
export type Lang = 'da' | 'en';

const numberFormat = { da: new Intl.NumberFormat('da-DK'), en: new Intl.NumberFormat('en-GB') };

export function formatNumber(n: number, lang: Lang): string {
  return numberFormat[lang].format(n);
}

/** At most one decimal, and no grouping: "1.250" would read as one thousand to a Dane, "1250,3 ms" does not. */
const durationFormat = {
  da: new Intl.NumberFormat('da-DK', { maximumFractionDigits: 1, useGrouping: false }),
  en: new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1, useGrouping: false }),
};

/** A duration in milliseconds, "125,2 ms" in Danish (a decimal comma), "125.2 ms" in English. */
export function formatDuration(ms: number, lang: Lang): string {
  return `${durationFormat[lang].format(ms)} ms`;
}

const timeFormat = {
  da: new Intl.DateTimeFormat('da-DK', { timeZone: 'Europe/Copenhagen', dateStyle: 'medium', timeStyle: 'medium' }),
  en: new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Copenhagen', dateStyle: 'medium', timeStyle: 'medium' }),
};
const weekdayTimeFormat = {
  da: new Intl.DateTimeFormat('da-DK', {
    timeZone: 'Europe/Copenhagen',
    weekday: 'long',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }),
  en: new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Copenhagen',
    weekday: 'long',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }),
};

/** A time as a Copenhagen person reads it. */
export function formatTime(iso: string, lang: Lang): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : timeFormat[lang].format(ms);
}

const shortFormat = {
  da: new Intl.DateTimeFormat('da-DK', {
    timeZone: 'Europe/Copenhagen',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }),
  en: new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Copenhagen',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }),
};

/** Compact, for tables: 23.11.2026 17.50.03. */
export function formatShortTime(iso: string, lang: Lang): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : shortFormat[lang].format(ms);
}

/** With the weekday, for off-hours look-ups. */
export function formatWeekdayTime(iso: string, lang: Lang): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : weekdayTimeFormat[lang].format(ms);
}
