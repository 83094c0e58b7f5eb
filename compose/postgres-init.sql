-- Runs once when the TimescaleDB container initialises its data directory.
CREATE EXTENSION IF NOT EXISTS timescaledb;
