package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Worker defaults, used for zero fields.
const (
	DefaultLease       = time.Minute
	DefaultMaxAttempts = 8
	DefaultPoll        = 2 * time.Second
)

// minRetryDelay is the least time between two attempts at one message,
// whatever Backoff says: a failed message is never tried twice in one pass.
const minRetryDelay = time.Second

// markTimeout bounds recording an outcome, which goes ahead even when the
// worker's context has just ended: an email sent but not marked sent would
// be sent again.
const markTimeout = 10 * time.Second

// Worker delivers the outbox: it claims due messages, opens them, sends them
// and records the outcome. Several workers (in one process or in several
// replicas) may share a store; a message is held by one worker at a time.
// Zero fields take their defaults; set the fields before the first Run or
// RunOnce and leave them.
type Worker struct {
	Store  storage.Storage
	Outbox *Outbox
	Sender Sender // delivers the emails
	// SMS delivers the text messages; nil fails each one for good (no
	// gateway is configured).
	SMS    SMSSender
	Logger *slog.Logger     // nil discards
	Now    func() time.Time // nil is time.Now
	// Lease is how long a claimed message is held before another worker may
	// take it (default 1m). Keep it well above the sender's time for one
	// email (SMTPTimeout per exchange); a send is cut off at half the lease.
	Lease time.Duration
	// MaxAttempts is how many attempts a message gets before it is marked
	// failed for good (default 8).
	MaxAttempts int
	// Backoff is the wait after the attempt-th failed attempt (1, 2, …);
	// default DefaultBackoff. Values under a second count as a second.
	Backoff func(attempt int) time.Duration
	Poll    time.Duration // how often Run looks for due messages (default 2s)
	// Wake, when set, makes Run look at once when it receives; see Kick.
	Wake chan struct{}
}

// DefaultBackoff is 30s·2^(attempt-1), capped at an hour, less up to a
// fifth at random so that messages that failed together spread out:
// about 30s, 1m, 2m, 4m, 8m, 16m, 32m, 1h.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Hour
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 8 {
		d = min(30*time.Second<<(attempt-1), time.Hour)
	}
	return d - rand.N(d/5)
}

// Kick makes a running Run look for due messages now (say, after a
// transaction that enqueued one has committed). It never blocks and does
// nothing without Wake; make Wake with a buffer of 1.
func (w *Worker) Kick() {
	if w.Wake == nil {
		return
	}
	select {
	case w.Wake <- struct{}{}:
	default:
	}
}

// maxOutageWait is the longest the worker waits between passes while the
// database is unavailable.
const maxOutageWait = 30 * time.Second

// Run delivers due messages until ctx ends, then returns nil. Between
// passes it waits Poll, or less when woken through Wake. A store error is
// logged and the pass tried again after Poll; while the database is
// unavailable the wait doubles up to maxOutageWait and the log says so
// once.
func (w *Worker) Run(ctx context.Context) error {
	log := w.logger()
	poll := cmp.Or(w.Poll, DefaultPoll)
	wait := poll
	var outage storage.OutageLog
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.Wake: // a nil Wake never receives
		case <-timer.C:
		}
		_, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if outage.Pass(ctx, log, "outbox", err) {
			wait = min(2*wait, maxOutageWait)
		} else {
			wait = poll
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// RunOnce delivers every message due now and returns how many were sent.
// A failed delivery is recorded on the message, not returned; the error is
// the store's (or ctx's), and stops the pass. A message that fails is not
// due again for at least a second, so with an injected clock that stands
// still each message is attempted once per pass.
func (w *Worker) RunOnce(ctx context.Context) (sent int, err error) {
	lease := cmp.Or(w.Lease, DefaultLease)
	for ctx.Err() == nil {
		m, err := w.Store.ClaimMessage(ctx, w.now(), lease)
		if errors.Is(err, storage.ErrNotFound) {
			return sent, nil
		}
		if err != nil {
			return sent, fmt.Errorf("claim outbox message: %w", err)
		}
		ok, err := w.deliver(ctx, m, lease)
		if ok {
			sent++
		}
		if err != nil {
			return sent, err
		}
	}
	return sent, ctx.Err()
}

// errNoSMSSender: an SMS was queued but no gateway is configured.
var errNoSMSSender = Permanent(errors.New("no SMS gateway is configured (IDP_SMS_URL)"))

// deliver sends the claimed m through the sender of its channel and records
// the outcome; ok reports that it went out.
func (w *Worker) deliver(ctx context.Context, m storage.Message, lease time.Duration) (ok bool, err error) {
	log := w.logger().With("message", m.ID, "attempt", m.Attempts, "channel", m.Channel)
	kind := "email"
	var send func(ctx context.Context) error
	var secrets []string // parts an error must not repeat
	switch m.Channel {
	case ChannelEmail:
		var e Email
		if e, err = w.Outbox.Open(m); err == nil {
			send = func(ctx context.Context) error { return w.Sender.Send(ctx, e) }
			secrets = []string{e.Text, e.HTML}
		}
	case ChannelSMS:
		kind = "SMS"
		var s SMS
		if s, err = w.Outbox.OpenSMS(m); err == nil {
			send = func(ctx context.Context) error {
				if w.SMS == nil {
					return errNoSMSSender
				}
				return w.SMS.SendSMS(ctx, s)
			}
			secrets = []string{s.Body}
		}
	default:
		err = Permanent(fmt.Errorf("unknown channel %q", m.Channel))
	}
	if err == nil {
		sendCtx, cancel := context.WithTimeout(ctx, lease/2)
		err = send(sendCtx)
		cancel()
	}
	markCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	now := w.now()

	if err == nil {
		if err := w.Store.MarkMessageSent(markCtx, m.ID, now); err != nil {
			log.Error(kind+" sent but not marked sent: it may be sent again", "err", err)
			return true, fmt.Errorf("mark message %d sent: %w", m.ID, err)
		}
		log.Info(kind + " sent")
		return true, nil
	}

	if ctx.Err() != nil {
		// Shutting down: hand the message back at once, without back-off.
		if merr := w.Store.MarkMessageFailed(markCtx, m.ID, "interrupted by shutdown", now, false); merr != nil {
			log.Warn("could not release "+kind+" on shutdown", "err", merr)
		}
		log.Info(kind + " delivery interrupted by shutdown")
		return false, ctx.Err()
	}

	lastErr := sanitizeParts(err, m.Channel == ChannelSMS, secrets...)
	maxAttempts := cmp.Or(w.MaxAttempts, DefaultMaxAttempts)
	final := m.Attempts >= maxAttempts || IsPermanent(err)
	backoff := DefaultBackoff
	if w.Backoff != nil {
		backoff = w.Backoff
	}
	next := now.Add(max(backoff(m.Attempts), minRetryDelay))
	merr := w.Store.MarkMessageFailed(markCtx, m.ID, lastErr, next, final)
	switch {
	case errors.Is(merr, storage.ErrNotFound):
		// Another worker took it over after our lease ran out and sent it.
		log.Info(kind+" delivery failed, but another worker has sent it meanwhile", "err", lastErr)
		return false, nil
	case merr != nil:
		return false, fmt.Errorf("mark message %d failed: %w", m.ID, merr)
	case final:
		log.Error(kind+" delivery failed for good", "err", lastErr, "attempts", m.Attempts)
	default:
		log.Warn(kind+" delivery failed; will retry", "err", lastErr, "next_attempt", next)
	}
	return false, nil
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// maxErrorLen bounds the last error kept on a message, in bytes.
const maxErrorLen = 500

// sanitizeError makes the error recorded on a message and logged: one line,
// at most maxErrorLen bytes, with any URL (a link in e may carry a one-time
// secret, and a server may echo it) and e's parts replaced. Senders keep
// credentials out of their errors themselves (SMTPSender.redact).
func sanitizeError(err error, e Email) string { return sanitizeParts(err, false, e.Text, e.HTML) }

// digitRuns are what an SMS error must not repeat: a one-time code, a number.
var digitRuns = regexp.MustCompile(`[0-9]{4,}`)

// sanitizeParts is sanitizeError for any message: the parts (of 16 bytes
// or more) and URLs are replaced, and with digits also every run of four or
// more digits (an SMS's code).
func sanitizeParts(err error, digits bool, parts ...string) string {
	msg := err.Error()
	for _, part := range parts {
		if len(part) >= 16 {
			msg = strings.ReplaceAll(msg, part, "[body]")
		}
	}
	msg = urlPattern.ReplaceAllString(msg, "[url]")
	if digits {
		msg = digitRuns.ReplaceAllString(msg, "[digits]")
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > maxErrorLen {
		cut := maxErrorLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	if msg == "" {
		msg = "unknown error"
	}
	return msg
}
