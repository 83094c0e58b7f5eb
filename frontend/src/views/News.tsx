import { useMemo, useState } from "react";
import { useArticles, useSentiment } from "../api/queries";
import { Chart, type ChartSeries } from "../components/Chart";
import { QueryState } from "../components/Metric";
import { Time } from "../components/Time";
import { fmtNum, num, safeHref } from "../lib/format";

function Sentiment({ score }: { score: unknown }) {
  const n = num(score);
  if (n === null) return <span>—</span>;
  const word = n > 0.05 ? "positive" : n < -0.05 ? "negative" : "neutral";
  return (
    <span className={n > 0.05 ? "text-emerald-800" : n < -0.05 ? "text-red-800" : "text-slate-800"}>
      {word} {fmtNum(n)}
    </span>
  );
}

export default function News() {
  const [ticker, setTicker] = useState("");
  const [source, setSource] = useState("");
  const [corrTicker, setCorrTicker] = useState("");
  const filter = { ...(ticker.trim() ? { ticker: ticker.trim().toUpperCase() } : {}), ...(source.trim() ? { source: source.trim() } : {}) };
  const articles = useArticles(filter);
  const corr = useSentiment(corrTicker);
  const series = useMemo<ChartSeries[]>(() => {
    const rows = corr.data?.days ?? [];
    return [
      { name: "Daily sentiment", data: rows.map((r) => ({ time: Date.parse(r.day) / 1000, value: num(r.sentiment) ?? NaN })), pane: 0 },
      { name: "Close", data: rows.map((r) => ({ time: Date.parse(r.day) / 1000, value: num(r.close) ?? NaN })), pane: 1 },
    ];
  }, [corr.data]);

  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-bold">News &amp; sentiment</h1>
      <form className="card flex flex-wrap items-end gap-3" aria-label="Filter articles" onSubmit={(e) => e.preventDefault()}>
        <label className="flex flex-col text-sm">
          Ticker
          <input className="field" value={ticker} onChange={(e) => setTicker(e.target.value)} />
        </label>
        <label className="flex flex-col text-sm">
          Source
          <input className="field" value={source} onChange={(e) => setSource(e.target.value)} />
        </label>
      </form>
      <section className="card" aria-labelledby="feed-h">
        <h2 id="feed-h" className="mb-2 font-bold">Scored articles</h2>
        <QueryState isLoading={articles.isLoading} error={articles.error} label="articles" />
        <ul>
          {(articles.data?.results ?? []).map((a) => {
            const href = safeHref(a.url);
            return (
              <li key={a.id} className="border-b border-slate-200 py-2" data-testid="article">
                <p className="font-semibold">
                  {href ? (
                    <a href={href} target="_blank" rel="noopener noreferrer nofollow" className="text-blue-800 underline">
                      {a.title}
                    </a>
                  ) : (
                    a.title
                  )}
                </p>
                <p className="text-xs text-slate-700">
                  {a.source} · <Time value={a.published_at ?? a.fetched_at} /> · {Array.isArray(a.tickers) ? a.tickers.map(String).join(", ") : ""}
                </p>
                <ul className="mt-1 flex flex-wrap gap-3 text-sm">
                  {a.sentiments.map((s) => (
                    <li key={s.ticker}>
                      <button type="button" className="underline" onClick={() => setCorrTicker(s.ticker)} aria-label={`Show correlation for ${s.ticker}`}>
                        {s.ticker}
                      </button>
                      : <Sentiment score={s.score} /> (confidence {fmtNum(s.confidence)}, tier {s.tier ?? 1}, {s.model})
                    </li>
                  ))}
                </ul>
              </li>
            );
          })}
        </ul>
      </section>
      <section className="card" aria-labelledby="corr-h">
        <h2 id="corr-h" className="font-bold">Sentiment against price</h2>
        <form className="my-2 flex items-end gap-2" aria-label="Correlation ticker" onSubmit={(e) => e.preventDefault()}>
          <label className="flex flex-col text-sm">
            Ticker
            <input className="field" value={corrTicker} onChange={(e) => setCorrTicker(e.target.value.toUpperCase())} />
          </label>
        </form>
        <QueryState isLoading={corr.isLoading && corrTicker !== ""} error={corr.error} label="the correlation" />
        {corr.data ? (
          <>
            <p>
              {corr.data.ticker}: correlation of daily sentiment with the next day's return <strong>{fmtNum(corr.data.correlation)}</strong>, same day{" "}
              <strong>{fmtNum(corr.data.correlation_same_day)}</strong> ({corr.data.pairs} days with both)
            </p>
            <Chart label={`${corr.data.ticker}: daily sentiment and close`} series={series} height={320} />
          </>
        ) : null}
      </section>
    </div>
  );
}
