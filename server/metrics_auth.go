package server

import "github.com/prometheus/client_golang/prometheus"

// authMetrics are the metrics of access control.
type authMetrics struct {
	failures    *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
}

// register creates the metrics on reg.
func (am *authMetrics) register(reg *prometheus.Registry) {
	am.failures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eventlog_auth_failures_total",
		Help: "Requests refused 401, by reason (no_credentials, malformed, unknown_key, wrong_secret, revoked, expired).",
	}, []string{"reason"})
	am.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eventlog_rate_limited_total",
		Help: "Requests refused 429 by a key's rate limit, by key id and limit (requests, bytes).",
	}, []string{"key_id", "limit"})
	reg.MustRegister(am.failures, am.rateLimited)
}
