import { describe, expect, it } from "vitest";
import { formatNY, formatUTC, safeHref } from "./format";

describe("times", () => {
  it("shows market time in New York and the UTC instant separately", () => {
    // 14:30 UTC in July is 10:30 EDT; in January 14:30 UTC is 09:30 EST.
    expect(formatNY("2024-07-01T14:30:00Z")).toMatch(/10:30:00 EDT/);
    expect(formatNY("2024-01-02T14:30:00Z")).toMatch(/09:30:00 EST/);
    expect(formatUTC("2024-07-01T14:30:00Z")).toBe("2024-07-01 14:30:00 UTC");
  });
});

describe("safeHref", () => {
  it("keeps only absolute http(s) links", () => {
    expect(safeHref("https://example.com/a?b=1")).toBe("https://example.com/a?b=1");
    expect(safeHref("http://example.com/")).toBe("http://example.com/");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("JaVaScRiPt:alert(1)")).toBeNull();
    expect(safeHref("data:text/html,<script>alert(1)</script>")).toBeNull();
    expect(safeHref("/relative/path")).toBeNull();
    expect(safeHref("")).toBeNull();
    expect(safeHref(null)).toBeNull();
  });
});
