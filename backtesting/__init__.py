"""The backtesting engine: replays stored bars and point-in-time news through the live stages."""
