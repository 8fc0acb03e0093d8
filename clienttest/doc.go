// Package clienttest runs real Elasticsearch clients and shippers against
// eventlog's /es routes: the official go-elasticsearch v8 client (Bulk and
// esutil.BulkIndexer, retries after 429 included), python3-elasticsearch's
// helpers.bulk, and rsyslog's omelasticsearch. It is a module of its own so
// that the heavy go-elasticsearch dependency stays out of the main
// module's build; .ci/run runs it.
package clienttest
