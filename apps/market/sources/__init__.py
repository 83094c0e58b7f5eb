"""Where bars come from: Alpaca (historical REST + live WebSocket) and the replay of stored bars."""
