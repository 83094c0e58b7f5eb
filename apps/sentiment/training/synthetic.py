"""Report-style training sentences, generated: the second half of the offline model's training data.

The twitter financial news set (the first half) is short, informal and headline-like. The bot also
reads company press releases, filings and wire copy, whose sentences say the same things in the
grammar of corporate reporting: *net sales rose 12% to $4.1 billion*, *the operating loss narrowed*,
*the company will publish its results on ...*. A model trained on tweets alone under-reads that
grammar, so this module writes labelled sentences from a small grammar of corporate events:

- a **metric moved**: the label comes from the metric's polarity times the direction
  (revenue up → positive, costs up → negative, a loss narrowing → positive), with numbers that agree
  with the verb (``from`` the smaller ``to`` the larger when something rose);
- **events** with a clear sign (guidance raised or cut, a contract won, an upgrade or downgrade,
  job cuts, a profit warning, a recall, a dividend raised or suspended, ...);
- **neutral** statements of fact (dates of results, appointments, company descriptions, deal terms,
  a metric reported without a comparison, a metric unchanged).

Every sentence is generated from the vocabulary below with a seeded RNG (``generate(n, seed)`` is
deterministic), written for this project; no sentence of any evaluation set is copied or paraphrased
here, and the Financial PhraseBank is never read. Pure: no Django, no ORM.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Callable
from pathlib import Path

from apps.sentiment.scoring import NEGATIVE, NEUTRAL, POSITIVE

LISTINGS = Path(__file__).resolve().parents[2] / "data" / "news" / "listings.csv"

# (metric, polarity): +1 when more of it is good news for the company, -1 when more is bad news.
METRICS: tuple[tuple[str, int], ...] = (
    ("net sales", 1),
    ("revenue", 1),
    ("sales", 1),
    ("turnover", 1),
    ("operating profit", 1),
    ("operating income", 1),
    ("net profit", 1),
    ("net income", 1),
    ("profit before taxes", 1),
    ("pre-tax profit", 1),
    ("earnings per share", 1),
    ("EBITDA", 1),
    ("adjusted EBITDA", 1),
    ("gross margin", 1),
    ("operating margin", 1),
    ("order intake", 1),
    ("order backlog", 1),
    ("new orders", 1),
    ("comparable store sales", 1),
    ("same-store sales", 1),
    ("deliveries", 1),
    ("shipments", 1),
    ("subscriber numbers", 1),
    ("passenger numbers", 1),
    ("market share", 1),
    ("free cash flow", 1),
    ("cash flow from operations", 1),
    ("bookings", 1),
    ("recurring revenue", 1),
    ("average revenue per user", 1),
    ("production volumes", 1),
    ("net interest income", 1),
    ("operating loss", -1),
    ("net loss", -1),
    ("pre-tax loss", -1),
    ("loss per share", -1),
    ("operating costs", -1),
    ("costs", -1),
    ("expenses", -1),
    ("net debt", -1),
    ("impairment charges", -1),
    ("restructuring charges", -1),
    ("credit losses", -1),
    ("loan loss provisions", -1),
    ("customer churn", -1),
    ("inventory write-downs", -1),
    ("warranty costs", -1),
    ("the cost-to-income ratio", -1),
)
# Metrics whose value is a percentage, not money.
_RATIO_METRICS = {
    "gross margin",
    "operating margin",
    "market share",
    "customer churn",
    "the cost-to-income ratio",
}
_COUNT_METRICS = {
    "deliveries",
    "shipments",
    "subscriber numbers",
    "passenger numbers",
    "production volumes",
}

UP_VERBS = (
    "rose",
    "increased",
    "grew",
    "climbed",
    "jumped",
    "surged",
    "went up",
    "was up",
    "advanced",
    "gained",
    "soared",
    "expanded",
)
DOWN_VERBS = (
    "fell",
    "decreased",
    "declined",
    "dropped",
    "slumped",
    "slid",
    "went down",
    "was down",
    "shrank",
    "tumbled",
    "contracted",
    "plunged",
)
# Verbs that only fit a loss or a cost.
LOSS_UP = ("widened", "deepened", "grew", "increased", "rose")
LOSS_DOWN = ("narrowed", "shrank", "decreased", "fell", "was cut", "was reduced")

PERIODS = (
    "in the first quarter",
    "in the second quarter",
    "in the third quarter",
    "in the fourth quarter",
    "in the first half",
    "in the second half",
    "in the first nine months",
    "in {year}",
    "for {year}",
    "in fiscal {year}",
    "in the quarter ended {month} 30",
    "in the three months to {month}",
    "in January-{month} {year}",
    "in Q1",
    "in Q2",
    "in Q3",
    "in Q4",
    "in the period",
    "in the reporting period",
    "during the review period",
    "year on year",
    "",
)
COMPARISONS = (
    "from the same period a year earlier",
    "compared with the previous year",
    "year-on-year",
    "from a year ago",
    "compared with the corresponding period in {prev}",
    "versus the prior-year quarter",
    "",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
CURRENCIES = (
    ("$", "{v} million", "{v} billion"),
    ("USD ", "{v} million", "{v} billion"),
    ("EUR ", "{v} mn", "{v} bn"),
    ("EUR ", "{v} million", "{v} billion"),
    ("", "{v} million euros", "{v} billion euros"),
    ("GBP ", "{v} million", "{v} billion"),
    ("£", "{v}m", "{v}bn"),
    ("$", "{v}M", "{v}B"),
    ("", "{v} million dollars", "{v} billion dollars"),
    ("SEK ", "{v} million", "{v} billion"),
    ("CAD ", "{v} million", "{v} billion"),
)
BROKERS = (
    "Goldman Sachs",
    "Morgan Stanley",
    "JPMorgan",
    "Citi",
    "Barclays",
    "UBS",
    "Deutsche Bank",
    "Jefferies",
    "Bernstein",
    "RBC Capital",
    "Piper Sandler",
    "Wells Fargo",
    "Evercore ISI",
    "an analyst at Mizuho",
    "Raymond James",
    "BofA Securities",
)
RATINGS_UP = (
    ("hold", "buy"),
    ("neutral", "outperform"),
    ("underweight", "equal-weight"),
    ("sell", "neutral"),
    ("equal-weight", "overweight"),
    ("market perform", "outperform"),
    ("reduce", "accumulate"),
)
ROLES = (
    "chief executive officer",
    "CEO",
    "chief financial officer",
    "CFO",
    "chief operating officer",
    "head of investor relations",
    "chairman of the board",
    "general counsel",
    "head of its retail division",
    "senior vice president, sales",
    "chief technology officer",
)
FIRST_NAMES = (
    "Anna",
    "James",
    "Maria",
    "David",
    "Laura",
    "Michael",
    "Sofia",
    "Daniel",
    "Emma",
    "Robert",
    "Karin",
    "Thomas",
    "Priya",
    "Kenji",
    "Lucas",
    "Helena",
    "Omar",
    "Grace",
    "Peter",
    "Ingrid",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Lindqvist",
    "Miller",
    "Garcia",
    "Nakamura",
    "Brown",
    "Schmidt",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Patel",
    "Andersen",
    "Walsh",
    "Novak",
    "Chen",
    "Fischer",
    "Moreau",
    "Haddad",
    "Virtanen",
)
CITIES = (
    "New York",
    "Chicago",
    "Houston",
    "Boston",
    "Seattle",
    "Atlanta",
    "London",
    "Frankfurt",
    "Paris",
    "Stockholm",
    "Helsinki",
    "Toronto",
    "Zurich",
    "Amsterdam",
    "Dublin",
    "Singapore",
    "Tokyo",
    "Austin",
    "Denver",
    "Oslo",
)
PRODUCTS = (
    "industrial pumps",
    "packaging materials",
    "cloud software",
    "medical devices",
    "semiconductors",
    "steel products",
    "paper and board",
    "consumer electronics",
    "telecom equipment",
    "specialty chemicals",
    "frozen foods",
    "construction machinery",
    "insurance services",
    "payment services",
    "wind turbines",
    "generic drugs",
    "elevators and escalators",
    "retail banking services",
    "logistics services",
    "apparel",
)
INDUSTRY_NOUNS = (
    "Group",
    "Holdings",
    "Industries",
    "Systems",
    "Technologies",
    "Corp",
    "Inc",
    "plc",
    "Oyj",
    "AB",
    "AG",
    "SA",
    "Ltd",
)
NAME_STEMS = (
    "Aster",
    "Borealis",
    "Cobalt",
    "Delta",
    "Evergreen",
    "Fjord",
    "Granite",
    "Harbor",
    "Ion",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nordic",
    "Orion",
    "Pinnacle",
    "Quarry",
    "Redwood",
    "Summit",
    "Tundra",
    "Unity",
    "Vertex",
    "Westfield",
    "Zenith",
)
_SUFFIX = re.compile(
    r"[,.]?\s+(inc|corp|corporation|co|ltd|plc|llc|lp|sa|ag|nv|holdings?|group|company)\.?$",
    re.IGNORECASE,
)


def _listing_names(limit: int = 3000) -> list[str]:
    """Company names from the shipped SEC listing, title-cased, legal suffixes dropped."""
    try:
        with LISTINGS.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        return []
    names = []
    for row in rows[:limit]:
        name = (row.get("name") or "").strip()
        if not name or not name.replace(" ", "").replace(",", "").replace(".", "").isalnum():
            continue
        if name.isupper():
            name = name.title()
        for _ in range(2):
            name = _SUFFIX.sub("", name).strip(" ,.")
        if 2 < len(name) <= 40:
            names.append(name)
    return names


class _Writer:
    """One generator run: a seeded RNG and the vocabulary, with small helpers."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.names = _listing_names() or [f"{s} {n}" for s in NAME_STEMS for n in INDUSTRY_NOUNS]

    def pick(self, seq: tuple[str, ...] | list[str]) -> str:
        return self.rng.choice(seq)

    def company(self) -> str:
        r = self.rng.random()
        if r < 0.55:
            return self.pick(self.names)
        if r < 0.8:
            return f"{self.pick(NAME_STEMS)} {self.pick(INDUSTRY_NOUNS)}"
        return self.pick(("The company", "The group", "The firm", "The bank", "The retailer"))

    def possessive(self) -> str:
        c = self.company()
        if c.startswith("The "):
            return self.pick(("The company's", "The group's", "Its"))
        return f"{c}'s"

    def year(self) -> int:
        return self.rng.randint(2005, 2025)

    def period(self) -> str:
        y = self.year()
        return self.pick(PERIODS).format(year=y, month=self.pick(MONTHS))

    def comparison(self) -> str:
        return self.pick(COMPARISONS).format(prev=self.year() - 1)

    def pct(self) -> str:
        v = self.rng.choice((self.rng.randint(1, 60), round(self.rng.uniform(0.5, 45), 1)))
        return self.pick((f"{v}%", f"{v} percent", f"{v} pct", f"{v} %"))

    def money_pair(self, up: bool) -> tuple[str, str]:
        """(new, old) amounts in one currency and unit, new > old when ``up``."""
        sym, mn, bn = self.rng.choice(CURRENCIES)
        unit = mn if self.rng.random() < 0.7 else bn
        a = round(self.rng.uniform(1.0, 900.0), self.rng.choice((0, 1, 1, 2)))
        b = round(a * self.rng.uniform(1.03, 1.9), 1)
        new, old = (b, a) if up else (a, b)
        return sym + unit.format(v=new), sym + unit.format(v=old)

    def amount(self) -> str:
        return self.money_pair(True)[0]

    def value_pair(self, metric: str, up: bool) -> tuple[str, str]:
        if metric in _RATIO_METRICS:
            a = round(self.rng.uniform(2.0, 40.0), 1)
            b = round(a + self.rng.uniform(0.3, 8.0), 1)
            new, old = (b, a) if up else (a, b)
            return f"{new}%", f"{old}%"
        if metric in _COUNT_METRICS:
            a = self.rng.randint(1_000, 900_000)
            b = int(a * self.rng.uniform(1.03, 1.8))
            new, old = (b, a) if up else (a, b)
            return f"{new:,}", f"{old:,}"
        if metric in {"earnings per share", "loss per share"}:
            sym = self.pick(("$", "EUR ", "USD "))
            a = round(self.rng.uniform(0.01, 4.0), 2)
            b = round(a * self.rng.uniform(1.05, 2.0), 2)
            new, old = (b, a) if up else (a, b)
            return f"{sym}{new:.2f}", f"{sym}{old:.2f}"
        return self.money_pair(up)

    def person(self) -> str:
        return f"{self.pick(FIRST_NAMES)} {self.pick(LAST_NAMES)}"


def _cap(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.])", r"\1", text).strip(" ,.")
    return text[0].upper() + text[1:] if text else text


def _metric_moved(w: _Writer) -> tuple[str, str]:
    metric, polarity = w.rng.choice(METRICS)
    up = w.rng.random() < 0.5
    label = POSITIVE if (polarity > 0) == up else NEGATIVE
    loss_like = polarity < 0 and metric in {"operating loss", "net loss", "pre-tax loss"}
    if loss_like and w.rng.random() < 0.6:
        verb = w.pick(LOSS_UP if up else LOSS_DOWN)
    else:
        verb = w.pick(UP_VERBS if up else DOWN_VERBS)
    new, old = w.value_pair(metric, up)
    who = w.possessive()
    period, comp = w.period(), w.comparison()
    form = w.rng.randrange(7)
    if form == 0:
        text = f"{who} {metric} {verb} to {new} from {old} {period}"
    elif form == 1:
        text = f"{who} {metric} {verb} by {w.pct()} to {new} {period} {comp}"
    elif form == 2:
        text = f"{metric} {verb} {w.pct()} {comp} {period}"
    elif form == 3 and period:
        text = f"{period}, {metric} {verb} to {new}, {comp}"
    elif form == 4:
        text = f"{w.company()} said its {metric} {verb} {w.pct()} {period}"
    elif form == 5:
        text = f"{who} {metric} {verb} to {new} {period} from {old} a year earlier"
    else:
        amount = f"{new}, {'up' if up else 'down'} from {old}"
        text = f"{w.company()} reported {metric} of {amount} {period}"
    return _cap(text) + ".", label


def _swing(w: _Writer) -> tuple[str, str]:
    """A swing between profit and loss: the sign is in the swing itself."""
    new, old = w.money_pair(w.rng.random() < 0.5)
    to_profit = w.rng.random() < 0.5
    c, period = w.company(), w.period()
    if to_profit:
        text = w.pick(
            (
                f"{c} swung to a net profit of {new} {period} from a loss of {old}",
                f"{c} returned to profit {period}, posting an operating profit of {new} "
                f"after a loss of {old}",
                f"{c} turned a profit of {new} {period}, compared with a loss of {old}",
            )
        )
        return _cap(text) + ".", POSITIVE
    text = w.pick(
        (
            f"{c} swung to a net loss of {new} {period} from a profit of {old}",
            f"{c} posted an operating loss of {new} {period}, compared with a profit of {old}",
            f"{c} fell into the red {period} with a loss of {new}",
        )
    )
    return _cap(text) + ".", NEGATIVE


def _event(w: _Writer, positive: bool) -> tuple[str, str]:
    c, amount, pct = w.company(), w.amount(), w.pct()
    broker = w.pick(BROKERS)
    lo, hi = w.rng.choice(RATINGS_UP)
    n = w.rng.choice((40, 120, 300, 450, 800, 1200, 2500, 6000))
    if positive:
        options: tuple[str, ...] = (
            f"{c} raised its full-year profit forecast",
            f"{c} raised its outlook for {w.year()} after strong demand",
            f"{c} lifted its revenue guidance for the year",
            f"{c} won a contract worth {amount} from {w.company()}",
            f"{c} has been awarded a {amount} order to supply {w.pick(PRODUCTS)}",
            f"{c} signed a multi-year agreement worth {amount} with {w.company()}",
            f"{broker} upgraded {c} to {hi} from {lo}",
            f"{broker} raised its price target on {c} and reiterated a buy rating",
            f"{c} beat analysts' estimates for quarterly earnings",
            f"{c}'s quarterly results topped market expectations",
            f"{c} raised its quarterly dividend by {pct}",
            f"{c} announced a share buyback programme of up to {amount}",
            f"{c} shares rose {pct} after the results",
            f"{c}'s stock jumped {pct} to a record high",
            f"{c} received regulatory approval for its new {w.pick(PRODUCTS)}",
            f"{c} said demand for its {w.pick(PRODUCTS)} was stronger than expected",
            f"{c} completed its cost savings programme ahead of schedule, boosting margins",
            f"{c} expects its operating profit to improve in {w.year()}",
            f"{c} said its profitability improved clearly in all business areas",
            f"{c}'s credit rating was upgraded by Moody's",
            f"{c} reported record sales {w.period()}",
            f"{c} will expand its production capacity in {w.pick(CITIES)} to meet growing demand",
            f"{c} plans to open {w.rng.randint(5, 120)} new stores in {w.year()}",
            f"{c} is investing {amount} to expand its {w.pick(PRODUCTS)} business",
            f"{c} agreed to acquire {w.company()} for {amount}, strengthening its market position",
            f"{c} launched a new range of {w.pick(PRODUCTS)}, which it expects to boost sales",
            f"{c} and {w.company()} signed a strategic partnership in {w.pick(PRODUCTS)}",
            f"{c} was selected as the preferred supplier of {w.pick(PRODUCTS)} to {w.company()}",
            f"{c} said the outlook for the rest of the year remains good",
            f"{c} expects its net sales to grow by {pct} in {w.year()}",
            f"{c} said its order book is at a record level",
            f"{c} will hire {n} new employees as business grows",
            f"Demand for {c}'s {w.pick(PRODUCTS)} is expected to grow strongly",
        )
        return _cap(w.pick(options)) + ".", POSITIVE
    options = (
        f"{c} cut its full-year profit forecast",
        f"{c} lowered its outlook for {w.year()} citing weak demand",
        f"{c} issued a profit warning",
        f"{c} warned that operating profit will fall short of last year's level",
        f"{c} will cut {n} jobs as part of a restructuring",
        f"{c} plans to lay off {n} employees and close a plant in {w.pick(CITIES)}",
        f"{c} is to shut its factory in {w.pick(CITIES)}, affecting {n} workers",
        f"{broker} downgraded {c} to {lo} from {hi}",
        f"{broker} cut its price target on {c}",
        f"{c} missed analysts' estimates for quarterly revenue",
        f"{c}'s quarterly earnings fell short of expectations",
        f"{c} suspended its dividend",
        f"{c} cut its dividend by {pct}",
        f"{c} shares fell {pct} after the company reported weaker results",
        f"{c}'s stock plunged {pct} to a multi-year low",
        f"{c} recalled thousands of its {w.pick(PRODUCTS)} over safety concerns",
        f"{c} was fined {amount} by regulators",
        f"{c} faces a lawsuit over alleged accounting irregularities",
        f"{c} filed for bankruptcy protection",
        f"{c} lost a major contract with {w.company()}",
        f"{c} booked a writedown of {amount} on its {w.pick(PRODUCTS)} business",
        f"{c}'s credit rating was downgraded by S&P",
        f"{c} said demand for its {w.pick(PRODUCTS)} weakened during the quarter",
        f"{c} expects its net sales to decline in {w.year()}",
        f"{c} postponed its expansion plans because of weak demand",
        f"{c} said the market situation remains difficult",
        f"{c} expects its operating result to weaken in {w.year()}",
        f"{c} lost market share to its competitors {w.period()}",
        f"{c} delayed the launch of its new {w.pick(PRODUCTS)}, hurting sales",
        f"{c}'s order book shrank as customers cancelled orders",
        f"Demand for {c}'s {w.pick(PRODUCTS)} is expected to decline",
    )
    return _cap(w.pick(options)) + ".", NEGATIVE


def _neutral(w: _Writer) -> tuple[str, str]:
    c, year, month = w.company(), w.year(), w.pick(MONTHS)
    day = w.rng.randint(1, 28)
    metric = w.rng.choice(METRICS)[0]
    value = w.value_pair(metric, True)[0]
    options = (
        f"{c} will publish its {w.period().removeprefix('in ').removeprefix('for ')} results "
        f"on {month} {day}, {year}",
        f"{c} will report its quarterly results on {month} {day}",
        f"{c} will hold a conference call for analysts and investors at 3 p.m.",
        f"{c} has appointed {w.person()} as {w.pick(ROLES)}, effective {month} {day}",
        f"{w.person()} will succeed {w.person()} as {w.pick(ROLES)} of {c}",
        f"{c} is headquartered in {w.pick(CITIES)}",
        f"{c} makes {w.pick(PRODUCTS)} and {w.pick(PRODUCTS)}",
        f"{c} provides {w.pick(PRODUCTS)} to customers in {w.rng.randint(3, 90)} countries",
        f"{c} employs about {w.rng.randint(50, 90000):,} people",
        f"{c} has operations in {w.rng.randint(2, 60)} countries",
        f"The annual general meeting of {c} will be held on {month} {day}, {year}",
        f"The board of {c} proposes a dividend of {w.value_pair('earnings per share', True)[0]} "
        f"per share for {year}",
        "The terms of the deal were not disclosed",
        f"The transaction is expected to close in the {w.pick(('first', 'second', 'third'))} "
        f"quarter of {year}",
        "The acquisition is subject to approval by the competition authorities",
        f"{w.possessive()} {metric} was {value} {w.period()}",
        f"{c} reported {metric} of {value} {w.period()}",
        f"{w.possessive()} {metric} was unchanged at {value} {w.period()}",
        f"{w.possessive()} {metric} remained flat {w.comparison()}",
        f"{c} will present at the {w.pick(BROKERS)} technology conference in {w.pick(CITIES)}",
        f"{c} shares will start trading on {month} {day} under the symbol "
        f"{''.join(w.rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ') for _ in range(4))}",
        f"{c} is listed on the {w.pick(('Nasdaq', 'New York', 'London', 'Helsinki'))} "
        f"stock exchange",
        f"{c} said it would announce further details in {month}",
        f"{c} has signed a letter of intent with {w.company()} on a possible cooperation",
        f"{c} completed the previously announced sale of its {w.pick(PRODUCTS)} unit",
        f"The company's share capital consists of {w.rng.randint(1, 900) * 1_000_000:,} shares",
        "The figures are unaudited",
        f"{c} will release its annual report in week {w.rng.randint(5, 15)}",
        f"{c} said it was reviewing strategic options for its {w.pick(PRODUCTS)} business",
        f"{c} publishes its interim report for January-{month} {year}",
        f"{c}'s {w.pick(PRODUCTS)} unit accounts for about {w.pct()} of group sales",
    )
    return _cap(w.pick(options)) + ".", NEUTRAL


def generate(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """``n`` labelled report-style sentences ``(text, label)``, deterministic for a seed.

    Mix: about 38% neutral, 31% positive, 31% negative; a third of the polar ones are events, the
    rest metric movements and profit/loss swings.
    """
    w = _Writer(seed)
    makers: list[tuple[float, Callable[[_Writer], tuple[str, str]]]] = [
        (0.38, _neutral),
        (0.34, _metric_moved),
        (0.06, _swing),
        (0.11, lambda x: _event(x, True)),
        (0.11, lambda x: _event(x, False)),
    ]
    weights = [p for p, _ in makers]
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    tries = 0
    while len(out) < n and tries < n * 20:
        tries += 1
        make = w.rng.choices([m for _, m in makers], weights)[0]
        text, label = make(w)
        if text not in seen:
            seen.add(text)
            out.append((text, label))
    return out
