"""How good the search page's results are: judged queries and their nDCG@10.

Each judged query lists the entries a person looking for it would want on
top, graded 3 (what they want), 2 (good) or 1 (related); any other entry
counts 0. The entries are qualified names of the standard library of the
Python running the demo (its corpus): a judged name that is not in the
index is reported, and left out of the ideal ranking; a query none of whose
judged names is in the index is left out of the mean.

nDCG@10 compares the first ten results with the best possible order of the
judged entries: ``DCG = sum((2**grade - 1) / log2(rank + 1))`` over the
first ten hits, divided by the DCG of the judged entries sorted by grade.
1.0 means the best entries, in the best order; the figure of a builder is
the mean over the queries.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from djangoes.models import execute_search

#: query -> {qualified name: grade}
JUDGMENTS: dict[str, dict[str, int]] = {
    "parse a date": {
        "datetime.datetime.strptime": 3,
        "datetime.date.fromisoformat": 3,
        "datetime.datetime.fromisoformat": 3,
        "http.cookiejar.http2time": 2,
        "http.cookiejar.iso2time": 2,
        "datetime.time.fromisoformat": 1,
    },
    "event loop": {
        "asyncio.events.AbstractEventLoop": 3,
        "asyncio.events.get_event_loop": 3,
        "asyncio.events.new_event_loop": 3,
        "asyncio.events.get_running_loop": 3,
        "asyncio.events.set_event_loop": 2,
        "asyncio.events.AbstractEventLoopPolicy": 1,
        "asyncio.events.AbstractEventLoop.run_forever": 1,
        "asyncio.events.AbstractEventLoop.run_until_complete": 1,
    },
    "temporary file": {
        "tempfile.NamedTemporaryFile": 3,
        "tempfile.mkstemp": 3,
        "tempfile": 2,
        "tempfile.SpooledTemporaryFile": 2,
        "tempfile.mktemp": 1,
        "tempfile.TemporaryDirectory": 1,
    },
    "read a csv file": {"csv": 3, "csv.Sniffer": 1, "csv.excel": 1},
    "copy a file": {
        "shutil.copyfile": 3,
        "shutil.copy": 3,
        "shutil.copy2": 3,
        "shutil.copyfileobj": 2,
        "shutil.copytree": 1,
        "shutil.copystat": 1,
    },
    "regular expression": {
        "re": 3,
        "re.compile": 3,
        "re.search": 2,
        "re.match": 2,
        "re.sub": 1,
    },
    "url encode": {
        "urllib.parse.urlencode": 3,
        "urllib.parse.quote": 3,
        "urllib.parse.quote_plus": 3,
        "urllib.parse.quote_from_bytes": 1,
    },
    "base64 decode": {
        "base64.b64decode": 3,
        "base64.urlsafe_b64decode": 2,
        "base64.standard_b64decode": 2,
        "base64.decodebytes": 2,
        "base64": 2,
        "base64.b64encode": 1,
    },
    "serialize to json": {"json.dumps": 3, "json.dump": 3, "json": 2},
    "random integer": {
        "random.Random.randint": 3,
        "random.Random.randrange": 3,
        "random.Random": 1,
    },
    "open a url": {
        "urllib.request.urlopen": 3,
        "webbrowser.open": 2,
        "webbrowser.open_new": 1,
        "webbrowser.open_new_tab": 1,
    },
    "walk a directory tree": {"os.walk": 3, "pathlib.Path.rglob": 2, "shutil.copytree": 1},
    "environment variable": {"os.getenv": 3},
    "thread pool": {
        "concurrent.futures.thread": 3,
        "concurrent.futures": 2,
        "multiprocessing.pool.Pool": 2,
        "concurrent.futures.thread.BrokenThreadPool": 1,
    },
    "command line arguments": {
        "argparse": 3,
        "argparse.ArgumentParser": 3,
        "getopt.getopt": 3,
        "getopt": 2,
        "getopt.gnu_getopt": 2,
    },
    "gzip compress": {
        "gzip.compress": 3,
        "gzip.open": 2,
        "gzip.GzipFile": 2,
        "gzip.decompress": 1,
    },
    "send an email": {
        "smtplib.SMTP.sendmail": 3,
        "smtplib.SMTP.send_message": 3,
        "smtplib.SMTP": 2,
        "smtplib": 2,
    },
    "unit test": {
        "unittest": 3,
        "unittest.case.TestCase": 3,
        "unittest.main.TestProgram": 2,
        "unittest.main": 1,
    },
    "log to a file": {
        "logging.FileHandler": 3,
        "logging.handlers.RotatingFileHandler": 3,
        "logging.handlers.TimedRotatingFileHandler": 2,
        "logging.handlers.WatchedFileHandler": 2,
        "logging.basicConfig": 2,
    },
    "parse xml": {
        "xml.etree.ElementTree.parse": 3,
        "xml.dom.minidom.parse": 3,
        "xml.dom.minidom.parseString": 3,
        "xml.etree.ElementTree.XMLParser": 2,
        "xml.etree.ElementTree.iterparse": 2,
        "xml.etree.ElementTree.ElementTree.parse": 2,
    },
    "current date and time": {
        "datetime.datetime.now": 3,
        "datetime.date.today": 3,
        "datetime.datetime.utcnow": 2,
        "email.utils.localtime": 1,
    },
    "deep copy": {"copy.deepcopy": 3, "copy": 2, "copy.copy": 1},
    "named tuple": {"collections.namedtuple": 3, "typing.NamedTuple": 3},
    "run a command": {
        "subprocess.run": 3,
        "subprocess.Popen": 2,
        "subprocess.check_output": 2,
        "subprocess.call": 2,
        "subprocess.check_call": 2,
        "subprocess.getoutput": 2,
        "subprocess.getstatusoutput": 1,
    },
    "extract a zip file": {
        "zipfile.ZipFile.extractall": 3,
        "zipfile.ZipFile.extract": 3,
        "shutil.unpack_archive": 3,
        "zipfile.ZipFile": 2,
        "zipfile": 1,
    },
    "priority queue": {
        "heapq": 3,
        "queue.PriorityQueue": 3,
        "asyncio.queues.PriorityQueue": 2,
        "heapq.heappush": 2,
        "heapq.heappop": 2,
    },
    "read a config file": {
        "configparser": 3,
        "configparser.RawConfigParser.read": 3,
        "configparser.ConfigParser": 3,
        "configparser.RawConfigParser.read_file": 2,
        "configparser.RawConfigParser": 1,
    },
    "pretty print": {"pprint.pprint": 3, "pprint.pp": 3, "pprint": 2, "pprint.pformat": 2},
    "memoize": {"functools.cache": 3, "functools.lru_cache": 3},
    "dataclass to dict": {"dataclasses.asdict": 3, "dataclasses.astuple": 1},
    "http server": {
        "http.server": 3,
        "http.server.SimpleHTTPRequestHandler": 2,
        "http.server.BaseHTTPRequestHandler": 2,
        "socketserver.TCPServer": 1,
    },
}

#: Results looked at per query.
K = 10


def dcg(grades: Sequence[int]) -> float:
    """Discounted cumulative gain of grades in rank order."""
    return sum((2**grade - 1) / math.log2(rank + 1) for rank, grade in enumerate(grades, start=1))


def ndcg(found: Sequence[str], judged: Mapping[str, int], k: int = K) -> float:
    """nDCG@k of the names ``found`` (in rank order) against the ``judged`` grades."""
    ideal = dcg(sorted(judged.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([judged.get(name, 0) for name in found[:k]]) / ideal


@dataclass(frozen=True)
class Measured:
    query: str
    #: None when this corpus has none of the judged entries (not counted in the mean).
    ndcg: float | None
    found: list[str]
    #: Judged names the index does not have (another Python's standard library).
    missing: list[str]


def measure(
    index: str,
    query_for: Callable[[str], dict[str, Any]],
    known: set[str],
    judgments: Mapping[str, Mapping[str, int]] = JUDGMENTS,
    sort: Sequence[Any] | None = None,
) -> list[Measured]:
    """Each judged query run with ``query_for(terms)`` on ``index``; ``known``: its qualnames.

    ``sort``: the ``sort`` of the requests (the search page's), None for none.
    """
    results = []
    for terms, judged in judgments.items():
        present = {name: grade for name, grade in judged.items() if name in known}
        body: dict[str, Any] = {"query": query_for(terms), "_source": ["qualname"]}
        if sort:
            body["sort"] = list(sort)
        sq = execute_search(index, body, size=K, save=False)
        hits = (sq.search_response or {})["hits"]["hits"]
        found = [hit["_source"]["qualname"] for hit in hits]
        missing = sorted(set(judged) - set(present))
        score = ndcg(found, present) if present else None
        results.append(Measured(terms, score, found, missing))
    return results


def measured(results: Sequence[Measured]) -> list[float]:
    """The nDCG@10 of the queries this corpus has judged entries for."""
    return [r.ndcg for r in results if r.ndcg is not None]


def mean(results: Sequence[Measured]) -> float:
    """The mean nDCG@10 of the queries this corpus has judged entries for."""
    scores = measured(results)
    return sum(scores) / len(scores)
