"""Use cases combining the domain with the ports: run the feed, enrich a batch, ..."""
