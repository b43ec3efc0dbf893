"""The local runtime: embedded AWS (moto) + the Chalice app over HTTP + an event pump.
Local-only; never shipped to Lambda."""
