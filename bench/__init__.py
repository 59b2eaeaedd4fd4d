"""djangoes' benchmark: the same models, documents and engine for djangoes and its peers.

``python -m bench`` (``make bench``) builds its own environment
(``.venv-bench``: djangoes editable, the peers from PyPI), then measures, side
by side in interleaved rounds: full reindex, saves with auto-sync, the search
path, reindex memory and scaling, on real OpenSearch 3.8 (against
django-opensearch-dsl and django-modelsearch) and on the embedded engine
(against elasticsearch-django and django-elasticsearch-dsl). It writes
``docs/benchmarks.md``; ``--check`` re-runs the ratios at small sizes in a few
minutes.

Where things are:

* :mod:`bench.environment` - the benchmark's virtualenv (standard library only);
* :mod:`bench.run` - the plan, the engine per measurement, the repeats, the report;
* :mod:`bench.worker` - one measurement in a fresh process (prints one JSON line);
* :mod:`bench.data` - the deterministic data set and the databases;
* :mod:`bench.engine` - an osmem-server process per measurement, the OpenSearch node;
* :mod:`bench.opensearch` - starting the OpenSearch node (the tests' launcher);
* :mod:`bench.profiling` - where djangoes spends its time (cProfile, by component);
* :mod:`bench.report` - the targets' ratios and the Markdown page;
* :mod:`bench.project` - the Django project: one model, one document, one app per library.

Nothing here is part of the library or its test suite.
"""
