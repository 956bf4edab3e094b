package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// messageColumns are what every outbox query reads, in scanMessage's order.
const messageColumns = `id, channel, recipient, body, status, attempts, next_attempt_at,
	claimed_until, last_error, created_at, sent_at`

func scanMessage(sc scanner) (storage.Message, error) {
	var m storage.Message
	err := sc.Scan(&m.ID, &m.Channel, &m.To, &m.Body, &m.Status, &m.Attempts,
		timeCol{&m.NextAttemptAt}, timeCol{&m.ClaimedUntil}, &m.LastError, timeCol{&m.CreatedAt},
		timeCol{&m.SentAt})
	m.Body = normList(m.Body) // NULL and empty both read back nil
	return m, err
}

const insertMessageSQL = `INSERT INTO outbox (channel, recipient, body, status, attempts,
	next_attempt_at, claimed_until, last_error, created_at, sent_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
RETURNING id`

// EnqueueMessage stores m and returns its ID. Status defaults to pending,
// CreatedAt to now and NextAttemptAt to CreatedAt: due at once.
func (s *Store) EnqueueMessage(ctx context.Context, m storage.Message) (int64, error) {
	if m.Channel == "" || m.To == "" {
		return 0, errors.New("enqueue message: empty channel or recipient")
	}
	if m.Status == "" {
		m.Status = storage.MessagePending
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.now()
	}
	if m.NextAttemptAt.IsZero() {
		m.NextAttemptAt = m.CreatedAt
	}
	var body any // NULL when empty, in both drivers
	if len(m.Body) > 0 {
		body = m.Body
	}
	var id int64
	err := s.retry(ctx, func() error {
		return s.q.QueryRowContext(ctx, insertMessageSQL, m.Channel, m.To, body, m.Status, m.Attempts,
			m.NextAttemptAt, nullTime(m.ClaimedUntil), m.LastError, m.CreatedAt, nullTime(m.SentAt)).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("enqueue message: %w", err)
	}
	return id, nil
}

// claimMessageSQL claims in one statement. The inner SELECT picks the
// oldest due message no worker holds; in PostgreSQL it locks it and skips
// those other claimers have locked, so replicas never wait for or take the
// same row. The outer WHERE checks the claim condition again on the row as
// it is now. Arguments: $1 now, $2 held until.
const claimMessageSQL = `UPDATE outbox SET claimed_until = $2, attempts = attempts + 1
WHERE id = (
	SELECT id FROM outbox
	WHERE status = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
	ORDER BY id LIMIT 1%s
) AND status = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
RETURNING ` + messageColumns

// ClaimMessage holds the oldest pending message due at now until now+lease
// and counts the attempt; storage.ErrNotFound when none is due.
func (s *Store) ClaimMessage(ctx context.Context, now time.Time, lease time.Duration) (storage.Message, error) {
	if lease <= 0 {
		return storage.Message{}, errors.New("claim message: lease must be positive")
	}
	query := fmt.Sprintf(claimMessageSQL, s.d.lockSkipLocked)
	var m storage.Message
	err := s.retry(ctx, func() (err error) {
		m, err = scanMessage(s.q.QueryRowContext(ctx, query, now, now.Add(lease)))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Message{}, fmt.Errorf("claim message: none due: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.Message{}, fmt.Errorf("claim message: %w", err)
	}
	return m, nil
}

// MarkMessageSent records delivery (the first time, if marked twice),
// releases the claim and clears the body, which may hold a link secret.
func (s *Store) MarkMessageSent(ctx context.Context, id int64, now time.Time) error {
	n, err := s.exec(ctx, `UPDATE outbox SET status = $2, sent_at = COALESCE(sent_at, $3), body = NULL,
		claimed_until = NULL WHERE id = $1`, id, storage.MessageSent, now)
	if err != nil {
		return fmt.Errorf("mark message sent: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("message %d: %w", id, storage.ErrNotFound)
	}
	return nil
}

// MarkMessageFailed records a failed attempt on a pending message and
// releases the claim: pending again from nextAttempt (a zero nextAttempt
// keeps the time it had), or failed for good when final. A message no
// longer pending (sent meanwhile by a worker whose claim outlived this
// one's) gives storage.ErrNotFound and is left as it is.
func (s *Store) MarkMessageFailed(ctx context.Context, id int64, lastErr string, nextAttempt time.Time, final bool) error {
	status := storage.MessagePending
	if final {
		status = storage.MessageFailed
	}
	n, err := s.exec(ctx, `UPDATE outbox SET status = $2, last_error = $3,
		next_attempt_at = COALESCE($4, next_attempt_at), claimed_until = NULL
		WHERE id = $1 AND status = 'pending'`, id, status, lastErr, nullTime(nextAttempt))
	if err != nil {
		return fmt.Errorf("mark message failed: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("pending message %d: %w", id, storage.ErrNotFound)
	}
	return nil
}

// Page sizes of ListMessages and ListAudit.
const (
	defaultPageLimit = 50
	maxPageLimit     = 500
)

// pageLimit is limit with the default and the cap applied.
func pageLimit(limit int) int {
	if limit <= 0 {
		return defaultPageLimit
	}
	return min(limit, maxPageLimit)
}

// ListMessages returns one page of messages, oldest first, after the
// cursor q.After.
func (s *Store) ListMessages(ctx context.Context, q storage.MessageQuery) ([]storage.Message, error) {
	query := `SELECT ` + messageColumns + ` FROM outbox WHERE id > $1`
	args := []any{q.After}
	if q.Status != "" {
		query += ` AND status = $2`
		args = append(args, q.Status)
	}
	query += ` ORDER BY id LIMIT $` + strconv.Itoa(len(args)+1)
	args = append(args, pageLimit(q.Limit))
	rows, err := s.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	defer rows.Close()
	var msgs []storage.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("list messages: %w", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	return msgs, nil
}
