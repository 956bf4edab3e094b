package metrics

import (
	"net/http"
	"strconv"
	"time"
)

// Instrument counts and times every request next answers, labelled with
// endpoint(r) (a route pattern or a fixed name: endpoint must never return
// the raw path, whose values are unbounded) and the status code. A nil
// *Metrics returns next unchanged.
func (m *Metrics) Instrument(next http.Handler, endpoint func(*http.Request) string) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		name := endpoint(r)
		sw := &statusWriter{ResponseWriter: w}
		returned := false
		defer func() {
			status := sw.status()
			if !returned {
				status = http.StatusInternalServerError // a panic: net/http drops the connection
			}
			code := strconv.Itoa(status)
			m.requests.WithLabelValues(name, code).Inc()
			m.latency.WithLabelValues(name, code).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
		returned = true
	})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 && code >= 200 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) status() int {
	if s.code == 0 {
		return http.StatusOK // nothing written: net/http answers 200
	}
	return s.code
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush passes flushes on; a flush commits the status.
func (s *statusWriter) Flush() {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
