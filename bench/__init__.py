"""djangoes' benchmark: the same models, documents and engine for djangoes and its peers.

``python -m bench`` (``make bench``) builds its own environment
(``.venv-bench``: djangoes editable, elasticsearch-django and
django-elasticsearch-dsl from PyPI), then measures, side by side in one run:
full reindex, auto-sync cost, the search path, reindex memory and scaling, on
SQLite and (when a server answers) PostgreSQL. It writes ``docs/benchmarks.md``
and ``docs/images/benchmarks.png``.

Where things are:

* :mod:`bench.environment` - the benchmark's virtualenv (standard library only);
* :mod:`bench.run` - the plan, the engine per measurement, the repeats, the report;
* :mod:`bench.worker` - one measurement in a fresh process (prints one JSON line);
* :mod:`bench.data` - the deterministic data set and the databases;
* :mod:`bench.engine` - an osmem-server process per measurement;
* :mod:`bench.profiling` - where djangoes spends its time (cProfile, by component);
* :mod:`bench.report` - the Markdown table and the chart;
* :mod:`bench.project` - the Django project: one model, one document, one app per library.

Nothing here is part of the library or its test suite.
"""
