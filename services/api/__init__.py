"""The api service: REST and websocket fan-out of trends.scored, and the static frontend."""
