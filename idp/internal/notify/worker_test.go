package notify

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// testKEK is the key-encryption key of these tests.
var testKEK = bytes.Repeat([]byte{7}, 32)

// time, so that what the store enqueues (stamped with the real time) is due.
func newClock() *testenv.Clock {
	return testenv.NewClock(time.Now().Add(time.Minute).UTC().Truncate(time.Microsecond))
}

// kit is one backend's store with everything a worker needs around it.
type kit struct {
	backend string
	dsn     string
	store   *sqlstore.Store
	outbox  *Outbox
	clock   *testenv.Clock
	smtp    *smtpServer
	logs    *syncBuffer // what the store and the workers logged
}

// eachBackend runs fn in a parallel subtest per backend (SQLite and
// PostgreSQL), each with a fresh migrated store and its own SMTP server.
func eachBackend(t *testing.T, fn func(t *testing.T, k *kit)) {
	t.Helper()
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			k := &kit{backend: b.Name, dsn: b.DSN(t), clock: newClock(), logs: &syncBuffer{}}
			k.store = testenv.OpenStore(t, k.dsn, k.logger())
			ob, err := NewOutbox(testKEK)
			if err != nil {
				t.Fatal(err)
			}
			k.outbox = ob
			k.smtp = newSMTPServer(t)
			fn(t, k)
		})
	}
}

func (k *kit) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(k.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// worker delivers k's outbox to k's SMTP server on k's clock, with a
// back-off of attempt minutes.
func (k *kit) worker(t *testing.T, st storage.Storage) *Worker {
	t.Helper()
	sender, err := NewSMTPSender(k.smtp.url(), testFrom)
	if err != nil {
		t.Fatal(err)
	}
	return &Worker{
		Store: st, Outbox: k.outbox, Sender: sender, Logger: k.logger(), Now: k.clock.Now,
		Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * time.Minute },
	}
}

// enqueue renders a reset email with a link carrying token and enqueues it
// in a transaction; it returns the email and the message ID.
func (k *kit) enqueue(t *testing.T, to, token string) (Email, int64) {
	t.Helper()
	e := testEmail(t, "https://id.example.com/reset?token="+token)
	e.To = to
	err := k.store.InTx(t.Context(), func(tx storage.Storage) error { return k.outbox.Enqueue(t.Context(), tx, e) })
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	msgs := k.list(t, "")
	return e, msgs[len(msgs)-1].ID
}

func (k *kit) list(t *testing.T, status string) []storage.Message {
	t.Helper()
	msgs, err := k.store.ListMessages(t.Context(), storage.MessageQuery{Status: status, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func (k *kit) message(t *testing.T, id int64) storage.Message {
	t.Helper()
	for _, m := range k.list(t, "") {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("message %d not found", id)
	return storage.Message{}
}

// rawBody reads the body column straight from the database.
func (k *kit) rawBody(t *testing.T, id int64) []byte {
	t.Helper()
	driver := "sqlite"
	if k.backend == "postgres" {
		driver = "pgx"
	}
	db, err := sql.Open(driver, k.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var body []byte
	if err := db.QueryRowContext(t.Context(), `SELECT body FROM outbox WHERE id = $1`, id).Scan(&body); err != nil {
		t.Fatalf("read outbox body: %v", err)
	}
	return body
}

func runOnce(t *testing.T, w *Worker) int {
	t.Helper()
	n, err := w.RunOnce(t.Context())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

func TestWorkerDeliversEnqueuedEmail(t *testing.T) {
	eachBackend(t, func(t *testing.T, k *kit) {
		token := "tok-deliver-" + k.backend
		e, id := k.enqueue(t, "dana@example.com", token)

		raw := k.rawBody(t, id)
		for _, s := range []string{token, "id.example.com", e.Subject, "Dana"} {
			if len(raw) == 0 || bytes.Contains(raw, []byte(s)) {
				t.Fatalf("the stored body is empty or shows %q in the clear", s)
			}
		}

		w := k.worker(t, k.store)
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("RunOnce sent %d, want 1", n)
		}
		got := k.smtp.messages()
		if len(got) != 1 {
			t.Fatalf("server received %d messages, want 1", len(got))
		}
		checkDelivered(t, got[0], e, "https://id.example.com/reset?token="+token)

		m := k.message(t, id)
		if m.Status != storage.MessageSent || m.Attempts != 1 || m.SentAt.IsZero() || m.Body != nil || m.LastError != "" {
			t.Errorf("after delivery: status %s attempts %d sent %v body %d bytes last error %q",
				m.Status, m.Attempts, m.SentAt, len(m.Body), m.LastError)
		}
		if raw := k.rawBody(t, id); raw != nil {
			t.Errorf("the body is still stored after sending (%d bytes)", len(raw))
		}
		k.clock.Advance(time.Hour)
		if n := runOnce(t, w); n != 0 || len(k.smtp.messages()) != 1 {
			t.Errorf("a second pass sent %d more", n)
		}
	})
}

func TestEnqueueCommitsWithTheChange(t *testing.T) {
	eachBackend(t, func(t *testing.T, k *kit) {
		e := testEmail(t, "https://id.example.com/reset?token=rolled-back")
		boom := errors.New("the change failed")
		err := k.store.InTx(t.Context(), func(tx storage.Storage) error {
			if err := k.outbox.Enqueue(t.Context(), tx, e); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		if msgs := k.list(t, ""); len(msgs) != 0 {
			t.Fatalf("a rolled-back transaction left %d messages", len(msgs))
		}
		if n := runOnce(t, k.worker(t, k.store)); n != 0 || len(k.smtp.messages()) != 0 {
			t.Fatalf("sent %d messages of a rolled-back change", n)
		}
	})
}

func TestWorkerRetriesUntilSMTPIsBack(t *testing.T) {
	outages := []struct {
		name    string
		start   func(*smtpServer)
		end     func(*smtpServer)
		wantErr string // in the recorded last error
	}{
		{"not listening", (*smtpServer).down, (*smtpServer).up, "connection refused"},
		{"451", func(s *smtpServer) { s.tempFail.Store(true) }, func(s *smtpServer) { s.tempFail.Store(false) }, "451"},
	}
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, k *kit) {
				w := k.worker(t, k.store)
				o.start(k.smtp)
				e, id := k.enqueue(t, "dana@example.com", "tok-retry")

				// The request that enqueued has long succeeded; delivery fails.
				now := k.clock.Now()
				if n := runOnce(t, w); n != 0 {
					t.Fatalf("sent %d while SMTP is down", n)
				}
				m := k.message(t, id)
				if m.Status != storage.MessagePending || m.Attempts != 1 || !m.NextAttemptAt.Equal(now.Add(time.Minute)) {
					t.Fatalf("after a failure: status %s attempts %d next %v (want pending, 1, %v)", m.Status, m.Attempts, m.NextAttemptAt, now.Add(time.Minute))
				}
				if !strings.Contains(m.LastError, o.wantErr) || strings.ContainsAny(m.LastError, "\r\n") {
					t.Errorf("last error %q: want one line with %q", m.LastError, o.wantErr)
				}
				if len(k.raw(t, id)) == 0 {
					t.Errorf("the body is gone before the message was sent")
				}

				// Not due again until the back-off has passed.
				if n := runOnce(t, w); n != 0 || k.message(t, id).Attempts != 1 {
					t.Fatalf("retried before the back-off")
				}
				k.clock.Advance(time.Minute)
				runOnce(t, w)
				if m := k.message(t, id); m.Attempts != 2 || !m.NextAttemptAt.Equal(k.clock.Now().Add(2*time.Minute)) {
					t.Fatalf("second failure: attempts %d next %v, want 2 and a growing back-off", m.Attempts, m.NextAttemptAt)
				}

				o.end(k.smtp)
				k.clock.Advance(2 * time.Minute)
				if n := runOnce(t, w); n != 1 {
					t.Fatalf("sent %d once SMTP is back, want 1", n)
				}
				k.clock.Advance(time.Hour)
				runOnce(t, w)
				got := k.smtp.messages()
				if len(got) != 1 {
					t.Fatalf("server received %d messages, want exactly 1", len(got))
				}
				checkDelivered(t, got[0], e, "https://id.example.com/reset?token=tok-retry")
				if m := k.message(t, id); m.Status != storage.MessageSent || m.Attempts != 3 {
					t.Errorf("status %s attempts %d, want sent after 3", m.Status, m.Attempts)
				}
			})
		})
	}
}

// raw is rawBody, named for the retry test's readability.
func (k *kit) raw(t *testing.T, id int64) []byte { return k.rawBody(t, id) }

func TestWorkerGivesUpAfterMaxAttempts(t *testing.T) {
	eachBackend(t, func(t *testing.T, k *kit) {
		w := k.worker(t, k.store)
		w.MaxAttempts = 3
		w.Backoff = func(int) time.Duration { return 0 }
		k.smtp.tempFail.Store(true)
		_, id := k.enqueue(t, "dana@example.com", "tok-give-up")
		for range 6 {
			if n := runOnce(t, w); n != 0 {
				t.Fatal("sent while the server answers 451")
			}
			k.clock.Advance(time.Minute)
		}
		m := k.message(t, id)
		if m.Status != storage.MessageFailed || m.Attempts != 3 || !strings.Contains(m.LastError, "451") {
			t.Fatalf("status %s attempts %d last error %q, want failed after 3 with the 451", m.Status, m.Attempts, m.LastError)
		}
		if failed := k.list(t, storage.MessageFailed); len(failed) != 1 || failed[0].ID != id {
			t.Errorf("admins' list of failed messages: %v", failed)
		}
		k.smtp.tempFail.Store(false)
		k.clock.Advance(time.Hour)
		if n := runOnce(t, w); n != 0 || len(k.smtp.messages()) != 0 {
			t.Errorf("a failed message was sent")
		}
	})
}

func TestTwoWorkersNeverSendTwice(t *testing.T) {
	eachBackend(t, func(t *testing.T, k *kit) {
		const n = 20
		for i := range n {
			k.enqueue(t, fmt.Sprintf("user%02d@example.com", i), fmt.Sprintf("tok-%02d", i))
		}
		// Two replicas: each its own connection pool on the one database.
		other := testenv.OpenStore(t, k.dsn, k.logger())
		workers := []*Worker{k.worker(t, k.store), k.worker(t, other)}
		var wg sync.WaitGroup
		sent := make([]int, len(workers))
		start := make(chan struct{})
		for i, w := range workers {
			wg.Go(func() {
				<-start
				for range 3 { // a few passes, to interleave with the other
					c, err := w.RunOnce(context.Background())
					if err != nil {
						t.Errorf("worker %d: %v", i, err)
						return
					}
					sent[i] += c
				}
			})
		}
		close(start)
		wg.Wait()

		if sent[0]+sent[1] != n {
			t.Errorf("workers report %v sent, want %d in all", sent, n)
		}
		got := k.smtp.messages()
		seen := map[string]int{}
		for _, r := range got {
			seen[r.To[0]]++
		}
		if len(got) != n || len(seen) != n {
			t.Fatalf("server received %d messages for %d recipients, want %d each once", len(got), len(seen), n)
		}
		for to, c := range seen {
			if c != 1 {
				t.Errorf("%s received %d copies", to, c)
			}
		}
		if pending := k.list(t, storage.MessagePending); len(pending) != 0 {
			t.Errorf("%d messages still pending", len(pending))
		}
		t.Logf("%s: worker passes sent %v", k.backend, sent)
	})
}

func TestNoLinkInLogs(t *testing.T) {
	eachBackend(t, func(t *testing.T, k *kit) {
		const token = "tok-secret-must-not-be-logged"
		w := k.worker(t, k.store)
		k.smtp.tempFail.Store(true)
		_, id := k.enqueue(t, "dana@example.com", token)
		runOnce(t, w) // a failure, logged
		k.smtp.tempFail.Store(false)
		k.clock.Advance(time.Hour)
		if n := runOnce(t, w); n != 1 { // a success, logged
			t.Fatalf("sent %d, want 1", n)
		}
		logs := k.logs.String()
		if !strings.Contains(logs, fmt.Sprintf("message=%d", id)) || !strings.Contains(logs, "email sent") ||
			!strings.Contains(logs, "will retry") {
			t.Fatalf("logs lack the attempts' outcomes:\n%s", logs)
		}
		for _, secret := range []string{token, "id.example.com/reset", "Dana Whitfield"} {
			if strings.Contains(logs, secret) {
				t.Errorf("a log line shows %q:\n%s", secret, logs)
			}
		}
	})
}

func TestWorkerRunWakesAndStops(t *testing.T) {
	eachBackend(t, func(t *testing.T, k *kit) {
		w := k.worker(t, k.store)
		w.Now = nil // the real clock
		w.Poll = time.Hour
		w.Wake = make(chan struct{}, 1)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()

		// Poll is an hour: only Kick can make this arrive in time.
		_, _ = k.enqueue(t, "dana@example.com", "tok-run")
		w.Kick()
		deadline := time.Now().Add(10 * time.Second)
		for len(k.smtp.messages()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			w.Kick() // the first may have landed during the initial pass
		}
		if len(k.smtp.messages()) != 1 {
			t.Fatalf("Run delivered %d messages, want 1", len(k.smtp.messages()))
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil on shutdown", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not stop")
		}
	})
}

// blockingSender blocks until its context ends, like a server that hangs
// when the process is told to stop.
type blockingSender struct{ started chan struct{} }

func (b blockingSender) Send(ctx context.Context, _ Email) error {
	close(b.started)
	<-ctx.Done()
	return ctx.Err()
}

func TestWorkerShutdownReleasesMessage(t *testing.T) {
	eachBackend(t, func(t *testing.T, k *kit) {
		w := k.worker(t, k.store)
		bs := blockingSender{started: make(chan struct{})}
		w.Sender = bs
		_, id := k.enqueue(t, "dana@example.com", "tok-shutdown")
		ctx, cancel := context.WithCancel(t.Context())
		go func() { <-bs.started; cancel() }()
		if _, err := w.RunOnce(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("RunOnce = %v, want context.Canceled", err)
		}
		m := k.message(t, id)
		if m.Status != storage.MessagePending || !m.ClaimedUntil.IsZero() || m.NextAttemptAt.After(k.clock.Now()) {
			t.Fatalf("after shutdown: status %s claimed until %v next %v, want pending, free, due", m.Status, m.ClaimedUntil, m.NextAttemptAt)
		}
		// Another replica picks it up at once and delivers it.
		if n := runOnce(t, k.worker(t, k.store)); n != 1 {
			t.Fatalf("sent %d after the release, want 1", n)
		}
	})
}

func TestWorkerWrongKEKIsRetriedNotSent(t *testing.T) {
	eachBackend(t, func(t *testing.T, k *kit) {
		_, id := k.enqueue(t, "dana@example.com", "tok-kek")
		w := k.worker(t, k.store)
		w.Outbox, _ = NewOutbox(bytes.Repeat([]byte{8}, 32))
		if n := runOnce(t, w); n != 0 {
			t.Fatal("sent a message it cannot open")
		}
		if m := k.message(t, id); m.Status != storage.MessagePending || !strings.Contains(m.LastError, "key-encryption key") {
			t.Fatalf("status %s last error %q", m.Status, m.LastError)
		}
	})
}

// syncBuffer is a bytes.Buffer several goroutines may log into.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
