// Display helpers. Market times are shown in America/New_York; the exact UTC instant
// goes in the element's title (hover) and the machine-readable dateTime attribute.

const nyFmt = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/New_York",
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
  timeZoneName: "short",
});
const nyDay = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/New_York",
  year: "numeric",
  month: "short",
  day: "2-digit",
});

export function toDate(value: string | number | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

export function formatNY(value: string | number | Date, dayOnly = false): string {
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return "—";
  return (dayOnly ? nyDay : nyFmt).format(d);
}

export function formatUTC(value: string | number | Date): string {
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return "";
  return d.toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC");
}

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 2 });
const usdSigned = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  maximumFractionDigits: 2,
  signDisplay: "exceptZero",
});
const pct = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 2, signDisplay: "exceptZero" });
const plain = new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 });

export function num(v: unknown): number | null {
  if (v === null || v === undefined || v === "") return null;
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

export const fmtUSD = (v: unknown): string => {
  const n = num(v);
  return n === null ? "—" : usd.format(n);
};
export const fmtUSDSigned = (v: unknown): string => {
  const n = num(v);
  return n === null ? "—" : usdSigned.format(n);
};
/** `v` is a fraction (0.012 → +1.2%). */
export const fmtPct = (v: unknown): string => {
  const n = num(v);
  return n === null ? "—" : pct.format(n);
};
export const fmtNum = (v: unknown): string => {
  const n = num(v);
  return n === null ? "—" : plain.format(n);
};

/** Links from outside data are shown only when they are http(s). */
export function safeHref(url: unknown): string | null {
  if (typeof url !== "string" || url.length === 0) return null;
  try {
    const u = new URL(url, "http://invalid.example");
    if (u.origin === "http://invalid.example") return null; // relative: not ours to follow
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}
