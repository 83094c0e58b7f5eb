import { formatNY, formatUTC, toDate } from "../lib/format";

/** A time in America/New_York, with the UTC instant on hover and in dateTime. */
export function Time({ value, dayOnly = false }: { value: string | number | Date | null | undefined; dayOnly?: boolean }) {
  if (value === null || value === undefined || value === "") return <span>—</span>;
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return <span>—</span>;
  return (
    <time dateTime={d.toISOString()} title={formatUTC(d)}>
      {formatNY(d, dayOnly)}
    </time>
  );
}
