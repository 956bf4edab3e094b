package metrics

import (
	"context"
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	dbOpen     = desc("idp_db_connections", "Database connections, by state (in_use, idle).", "state")
	dbMaxOpen  = desc("idp_db_connections_max", "Most database connections the pool opens.")
	dbWaits    = desc("idp_db_connection_waits_total", "Times a statement waited for a free connection.")
	dbWaitTime = desc("idp_db_connection_wait_seconds_total", "Time statements spent waiting for a free connection.")
	outboxLen  = desc("idp_outbox_pending_messages", "Messages (email, SMS) waiting in the outbox to be sent.")
	outboxAge  = desc("idp_outbox_oldest_pending_age_seconds", "Age of the oldest message waiting in the outbox; 0 when none waits.")
	keyAge     = desc("idp_signing_key_age_seconds", "Age of the key that signs tokens now, by key id and algorithm.", "kid", "alg")
)

// scrape reads the database pool, the outbox and the signing keys when
// Prometheus scrapes; each read that touches the database is bounded by
// ScrapeTimeout and a failed one leaves its family out.
type scrape struct{ src Sources }

func (s *scrape) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dbOpen, dbMaxOpen, dbWaits, dbWaitTime, outboxLen, outboxAge, keyAge} {
		ch <- d
	}
}

func (s *scrape) Collect(ch chan<- prometheus.Metric) {
	if s.src.DBStats != nil {
		collectDB(ch, s.src.DBStats())
	}
	if s.src.Outbox != nil {
		s.collectOutbox(ch)
	}
	if s.src.SigningKeys != nil {
		s.collectKeys(ch)
	}
}

// bounded is the context of one database read: it ends after Timeout.
func (s *scrape) bounded() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.src.Timeout)
}

func (s *scrape) collectOutbox(ch chan<- prometheus.Metric) {
	ctx, cancel := s.bounded()
	defer cancel()
	n, oldest, err := s.src.Outbox(ctx)
	if err != nil {
		s.src.Logger.Warn("metrics: reading the outbox backlog", "err", err)
		return
	}
	age := 0.0
	if n > 0 && !oldest.IsZero() {
		age = max(0, s.src.Now().Sub(oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(outboxLen, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(outboxAge, prometheus.GaugeValue, age)
}

func (s *scrape) collectKeys(ch chan<- prometheus.Metric) {
	ctx, cancel := s.bounded()
	defer cancel()
	keys, err := s.src.SigningKeys(ctx)
	if err != nil {
		s.src.Logger.Warn("metrics: reading the signing keys", "err", err)
		return
	}
	for _, k := range keys {
		ch <- prometheus.MustNewConstMetric(keyAge, prometheus.GaugeValue,
			max(0, s.src.Now().Sub(k.CreatedAt).Seconds()), k.ID, k.Algorithm)
	}
}

func collectDB(ch chan<- prometheus.Metric, st sql.DBStats) {
	ch <- prometheus.MustNewConstMetric(dbOpen, prometheus.GaugeValue, float64(st.InUse), "in_use")
	ch <- prometheus.MustNewConstMetric(dbOpen, prometheus.GaugeValue, float64(st.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(dbMaxOpen, prometheus.GaugeValue, float64(st.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(dbWaits, prometheus.CounterValue, float64(st.WaitCount))
	ch <- prometheus.MustNewConstMetric(dbWaitTime, prometheus.CounterValue, st.WaitDuration.Seconds())
}
