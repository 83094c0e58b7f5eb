"""The fault suite (`make faults`): the running bot under kills, restarts and broker faults."""
