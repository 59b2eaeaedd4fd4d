"""The benchmark's Django project.

One concrete model pair (:mod:`bench.project.catalog`) holds the data; each
library gets a proxy of it carrying that library's mixins or document class,
so every library reads the same tables and writes the same document
(:func:`bench.project.catalog.documents.render_document`, mapping in
``mappings/books.json``). :mod:`bench.project.settings` installs the app of
the library named by ``BENCH_LIBRARY``.
"""
