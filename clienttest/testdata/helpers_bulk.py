"""Sends documents to eventlog's /es routes with python-elasticsearch's
helpers.bulk, as a Python shipper would, and prints what the client saw.

usage: python3 helpers_bulk.py URL COUNT OP
"""
import json
import sys

from elasticsearch import Elasticsearch, helpers

url, count, op = sys.argv[1], int(sys.argv[2]), sys.argv[3]
es = Elasticsearch(url, max_retries=10, retry_on_status=(429, 502, 503, 504))
info = es.info()  # the client's product check runs on this first request
actions = (
    {
        "_op_type": op,
        "_index": "py-bulk",
        "_id": "py-%d" % i,
        "_source": {"@timestamp": "2026-01-02T03:04:05Z", "message": "py-%d" % i, "process": {"pid": i}},
    }
    for i in range(count)
)
ok, errors = helpers.bulk(es, actions, chunk_size=100, raise_on_error=False)
print(json.dumps({"version": info["version"]["number"], "ok": ok, "errors": errors}))
