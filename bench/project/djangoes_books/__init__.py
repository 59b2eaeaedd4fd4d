"""The book as djangoes indexes it: a proxy with djangoes' document mixins."""
