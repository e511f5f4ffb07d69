"""The benchmark behind `make bench`: each figure next to its floor, the same
work done the cheapest way, measured in the same run (see bench/README.md)."""
