import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Pnl, ProfitBadge } from "./Pnl";
import { Time } from "./Time";

describe("Time", () => {
  it("renders New York time with the UTC instant on hover", () => {
    render(<Time value="2024-07-01T14:30:00Z" />);
    const el = screen.getByText(/10:30:00 EDT/);
    expect(el.tagName).toBe("TIME");
    expect(el).toHaveAttribute("title", "2024-07-01 14:30:00 UTC");
    expect(el).toHaveAttribute("dateTime", "2024-07-01T14:30:00.000Z");
  });
});

describe("P&L is never told by colour alone", () => {
  it("says gain or loss in words and with an arrow", () => {
    const { container } = render(
      <>
        <Pnl value={12.5} />
        <Pnl value="-3" />
      </>,
    );
    expect(container.textContent).toContain("gain +$12.50");
    expect(container.textContent).toContain("loss -$3.00");
    expect(container.textContent).toContain("▲");
    expect(container.textContent).toContain("▼");
  });
  it("labels profitable trades with text", () => {
    render(
      <>
        <ProfitBadge profitable />
        <ProfitBadge profitable={false} />
      </>,
    );
    expect(screen.getByText(/profitable/)).toBeInTheDocument();
    expect(screen.getByText(/loss/)).toBeInTheDocument();
  });
});
