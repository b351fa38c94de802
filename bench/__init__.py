"""`make bench`: throughput, latency and memory of Aftercare's hot paths (`python -m bench`)."""
