"""For projects that do not use djangoes: the plugin must leave everything alone."""

from djangoes import connections


def test_plugin_does_not_switch_names(djangoes_test_names):
    assert djangoes_test_names is None
    assert connections.test_names is None
