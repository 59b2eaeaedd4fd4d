"""The data of the benchmark: publishers and their books (no search library involved)."""
