package server

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventlogdb/eventlog/destination"
)

// streamMetrics are the metrics of _tail streams and of destinations.
type streamMetrics struct {
	tails    prometheus.Gauge
	tailEnds *prometheus.CounterVec
	// dests is the manager the destination metrics read at each scrape
	// (nil: none).
	dests atomic.Pointer[destination.Manager]
}

// register creates the metrics on reg.
func (sm *streamMetrics) register(reg *prometheus.Registry) {
	sm.tails = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "eventlog_tail_streams",
		Help: "Open _tail streams.",
	})
	sm.tailEnds = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eventlog_tail_streams_ended_total",
		Help: "_tail streams ended, by reason (client_closed, slow_reader, shutdown, store_closed, error, key_ended).",
	}, []string{"reason"})
	for _, r := range []string{tailEndClient, tailEndSlow, tailEndShutdown, tailEndClosed, tailEndError, tailEndKey} {
		sm.tailEnds.WithLabelValues(r)
	}
	reg.MustRegister(sm.tails, sm.tailEnds, destinationCollector{sm})
}

// destinationCollector reads Manager.List() at each scrape.
type destinationCollector struct{ sm *streamMetrics }

func destDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("eventlog_destination_"+name, help, []string{"name"}, nil)
}

var (
	descDestCursor     = destDesc("cursor", "Last sequence number the destination delivered.")
	descDestLagEvents  = destDesc("lag_events", "Sequence numbers the store is ahead of the destination's cursor.")
	descDestLagSeconds = destDesc("lag_seconds", "How long the oldest undelivered event has waited since it was read.")
	descDestDeliveries = destDesc("deliveries_total", "Batches the receiver accepted, since the server started.")
	descDestDelivered  = destDesc("delivered_events_total", "Events in the batches the receiver accepted, since the server started.")
	descDestRetries    = destDesc("retries_total", "Failed attempts that were retried, since the server started.")
	descDestFailures   = destDesc("failures_total", "Times delivery parked after a refused batch, since the server started.")
	descDestParked     = destDesc("parked", "1 while the destination is parked (waiting for _resume), else 0.")
)

func (c destinationCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDestCursor, descDestLagEvents, descDestLagSeconds, descDestDeliveries,
		descDestDelivered, descDestRetries, descDestFailures, descDestParked} {
		ch <- d
	}
}

func (c destinationCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.sm.dests.Load()
	if m == nil {
		return
	}
	for _, st := range m.List() {
		metric := func(d *prometheus.Desc, t prometheus.ValueType, v float64) {
			ch <- prometheus.MustNewConstMetric(d, t, v, st.Name)
		}
		parked := 0.0
		if st.Parked != "" {
			parked = 1
		}
		metric(descDestCursor, prometheus.GaugeValue, float64(st.Cursor))
		metric(descDestLagEvents, prometheus.GaugeValue, float64(st.LagEvents))
		metric(descDestLagSeconds, prometheus.GaugeValue, st.LagSeconds)
		metric(descDestDeliveries, prometheus.CounterValue, float64(st.Deliveries))
		metric(descDestDelivered, prometheus.CounterValue, float64(st.DeliveredEvents))
		metric(descDestRetries, prometheus.CounterValue, float64(st.Retries))
		metric(descDestFailures, prometheus.CounterValue, float64(st.Failures))
		metric(descDestParked, prometheus.GaugeValue, parked)
	}
}
