"""The Redis Streams bus that chains the stages (a low-level app: it imports only ``apps.core``).

``outbox`` publishes and relays, ``consumer`` is the base every stage consumer shares, ``topology``
is the static table of streams -> groups -> queues, ``tasks`` drains and reclaims a group. See README
"The bus" for the design.
"""
