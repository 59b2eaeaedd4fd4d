"""Testing with djangoes: test index names, test cases, a runner and a pytest plugin.

* :mod:`djangoes.test.utils` - ``setup_djangoes()`` / ``teardown_djangoes()``;
* :mod:`djangoes.test.testcases` - ``SimpleTestCase``, ``TransactionTestCase``, ``TestCase``;
* :mod:`djangoes.test.runner` - ``DiscoverRunner`` for ``manage.py test``;
* :mod:`djangoes.test.pytest_plugin` - fixtures for pytest-django users;
* :mod:`djangoes.test.backends` - Elasticsearch backends that send plain JSON,
  to run the Elasticsearch client against OpenSearch-compatible test engines.
"""
