"""Elasticsearch backends for test engines that only speak plain JSON.

Use them as ENGINE in test settings to run code written for
``djangoes.backends.elasticsearch`` against OpenSearch-compatible test engines
(the embedded engine, an OpenSearch container): same client, same calls, only
the media types differ. They accept both distributions in the server check.
"""

from __future__ import annotations

from djangoes.backends import elasticsearch
from djangoes.backends.features import BaseFeatures


class PlainJsonFeatures(BaseFeatures):
    """Any distribution, from OpenSearch 2 / Elasticsearch 8 on."""

    minimum_server_version = (2, 0)


class SimpleHttpBackend(elasticsearch.SimpleHttpBackend):
    """elasticsearch-py over urllib3, sending plain JSON."""

    node_class = "djangoes.test.nodes.PlainJsonUrllib3Node"
    async_node_class = "djangoes.test.nodes.PlainJsonAiohttpNode"
    features_class = PlainJsonFeatures


class SimpleRequestsHttpBackend(elasticsearch.SimpleRequestsHttpBackend):
    """elasticsearch-py over requests, sending plain JSON."""

    node_class = "djangoes.test.nodes.PlainJsonRequestsNode"
    async_node_class = "djangoes.test.nodes.PlainJsonAiohttpNode"
    features_class = PlainJsonFeatures
