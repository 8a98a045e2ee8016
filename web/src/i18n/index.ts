import { Store } from "../lib/store";
import en from "./en.json";

// One catalog per locale (en.json, uk.json, ru.json, pl.json, pt.json), the same keys in
// each (tests/browser/test_catalogs.py checks it, and that every error code of the
// API has a message). English ships in the main bundle; the others load on demand.
// A value is a string with {placeholders}, or an object of CLDR plural forms
// (one, few, many, other) chosen with Intl.PluralRules for the number in {count}.

export const LOCALES = ["en", "uk", "ru", "pl", "pt"] as const;
export type Locale = (typeof LOCALES)[number];
export const LOCALE_NAMES: Record<Locale, string> = {
  en: "English",
  uk: "Українська",
  ru: "Русский",
  pl: "Polski",
  pt: "Português",
};

/** The regional conventions for dates and numbers: Portugal's Portuguese, British English. */
const REGION: Record<Locale, string> = { en: "en-GB", uk: "uk-UA", ru: "ru-RU", pl: "pl-PL", pt: "pt-PT" };

type Plural = Partial<Record<Intl.LDMLPluralRule, string>>;
type Catalog = Record<string, string | Plural>;
export type Key = keyof typeof en;

const loaders: Record<Locale, () => Promise<Catalog>> = {
  en: async () => en,
  uk: async () => (await import("./uk.json")).default,
  ru: async () => (await import("./ru.json")).default,
  pl: async () => (await import("./pl.json")).default,
  pt: async () => (await import("./pt.json")).default,
};

const SAVED = "clientarea.locale";
let catalog: Catalog = en;
export const locale = new Store<Locale>("en");

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

/** As the API chooses: the person's own choice (this tab), else the browser's languages
 *  (first one we speak, by primary subtag), else English. The account's locale
 *  replaces it at sign-in. */
export function initialLocale(languages: readonly string[] = navigator.languages): Locale {
  const saved = sessionStorage.getItem(SAVED);
  if (isLocale(saved)) return saved;
  for (const tag of languages) {
    const primary = tag.toLowerCase().split("-")[0];
    if (isLocale(primary)) return primary;
  }
  return "en";
}

export async function setLocale(next: Locale, remember = true): Promise<void> {
  catalog = await loaders[next]();
  if (remember) sessionStorage.setItem(SAVED, next);
  document.documentElement.lang = next;
  locale.set(next);
}

export function has(key: string): boolean {
  return key in catalog || key in en;
}

/** The message for `key` in the current locale, {placeholders} filled from `params`. */
export function t(key: Key | string, params: Record<string, string | number> = {}): string {
  const entry = catalog[key] ?? (en as Catalog)[key];
  if (entry === undefined) return key;
  let text: string;
  if (typeof entry === "string") {
    text = entry;
  } else {
    const count = Number(params.count ?? 0);
    const form = new Intl.PluralRules(locale.get()).select(count);
    text = entry[form] ?? entry.other ?? "";
  }
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(REGION[locale.get()], { dateStyle: "medium", timeStyle: "short" }).format(
    new Date(iso),
  );
}

export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${new Intl.NumberFormat(REGION[locale.get()], { maximumFractionDigits: 1 }).format(value)} ${units[unit]}`;
}
