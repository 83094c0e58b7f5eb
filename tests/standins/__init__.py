"""Local stand-ins for third-party services, answering as the real APIs do (tests and `make run`)."""
