"""Use cases that both the services (API) and the pipeline (workers) run: they sit below
both, so neither imports the other's package to reach them."""
