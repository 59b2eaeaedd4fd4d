"""The book as elasticsearch-django indexes it: a proxy with its document mixins."""
