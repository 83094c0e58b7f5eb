"""Run the Alpaca stand-in on fixed ports: ``python -m tests.standins.alpaca --port 8765``.

Then start the bot with the printed environment (BROKER=alpaca, ALPACA_BASE_URL=...) to trade
against it without Alpaca keys.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from tests.standins.alpaca.server import KEY, SECRET, AlpacaStandIn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="HTTP port (Trading + Market Data)")
    parser.add_argument("--ws-port", type=int, default=0, help="WebSocket port (default: port + 1)")
    parser.add_argument("--key", default=KEY)
    parser.add_argument("--secret", default=SECRET)
    parser.add_argument(
        "--fill-mode", default="fill", choices=["fill", "partial", "hold", "reject"]
    )
    parser.add_argument(
        "--rate-limit", type=int, default=None, help="answer 429 above N requests/min"
    )
    args = parser.parse_args()
    standin = AlpacaStandIn(
        args.host,
        args.port,
        args.ws_port or args.port + 1,
        key=args.key,
        secret=args.secret,
        rate_limit_per_min=args.rate_limit,
    ).start()
    standin.broker.fill_mode = args.fill_mode
    print("Alpaca stand-in running. Environment for the bot:")
    for name, value in standin.env().items():
        print(f"  export {name}={value}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops it as SIGTERM does
        stop.wait()
    standin.stop()


if __name__ == "__main__":
    main()
