"""`bench`, `tune`: measurements, statistics, pricing, push cost, the torch baseline."""
