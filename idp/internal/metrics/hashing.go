package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cliniconnects/identity/idp/internal/password"
)

// The password hashing bound is process-wide (password.SetBound), so its
// families are too: one set, shared by every registry New makes, fed by
// one observer installed once.
var (
	hashOnce sync.Once
	hashWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "idp_password_hash_wait_seconds",
		Help:    "Time a password hash (or verification) waited for a slot of the hashing bound; refusals included.",
		Buckets: []float64{.0005, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	hashBusy = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "idp_password_hash_busy_total",
		Help: "Password hashes refused with ErrBusy (queue full or wait too long; the caller answered 503).",
	})
	hashState = prometheus.NewDesc("idp_password_hash_slots_in_use",
		"Hashing slots of the process-wide bound held by running hashes.", nil, nil)
	hashSlots = prometheus.NewDesc("idp_password_hash_slots",
		"Hashing slots of the process-wide bound (its concurrency).", nil, nil)
	hashWaiting = prometheus.NewDesc("idp_password_hash_waiters",
		"Callers queued for a hashing slot (queue depth).", nil, nil)
)

func registerHashing(reg *prometheus.Registry) {
	hashOnce.Do(func() {
		password.ObserveWaits(func(d time.Duration, busy bool) {
			hashWait.Observe(d.Seconds())
			if busy {
				hashBusy.Inc()
			}
		})
	})
	reg.MustRegister(hashWait, hashBusy, hashingState{})
}

// hashingState reads the bound's occupancy at scrape time.
type hashingState struct{}

func (hashingState) Describe(ch chan<- *prometheus.Desc) {
	ch <- hashState
	ch <- hashSlots
	ch <- hashWaiting
}

func (hashingState) Collect(ch chan<- prometheus.Metric) {
	s := password.State()
	ch <- prometheus.MustNewConstMetric(hashState, prometheus.GaugeValue, float64(s.InUse))
	ch <- prometheus.MustNewConstMetric(hashSlots, prometheus.GaugeValue, float64(s.Concurrency))
	ch <- prometheus.MustNewConstMetric(hashWaiting, prometheus.GaugeValue, float64(s.Waiting))
}
