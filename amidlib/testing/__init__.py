"""Generators of miniature data trees in the real datasets' layouts, for the tests and the GPU check."""
