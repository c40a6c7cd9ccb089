"""DeltaStream benchmarks: ``python -m bench`` (or ``make bench``) measures the quant core against peers.

Every ratio is between two figures measured in the same run on the same data; see bench/README.md.
"""
