"""The Redis Streams bus that chains the stages. See README "The bus" for the design."""
