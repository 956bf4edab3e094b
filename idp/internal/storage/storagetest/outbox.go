package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// email is a pending message to enqueue, created (and due) at created.
func email(to string, created time.Time) storage.Message {
	return storage.Message{
		Channel:   "email",
		To:        to,
		Body:      []byte("sealed:" + to),
		CreatedAt: created,
	}
}

func enqueue(t *testing.T, s storage.Storage, m storage.Message) storage.Message {
	t.Helper()
	id, err := s.EnqueueMessage(t.Context(), m)
	if err != nil {
		t.Fatalf("EnqueueMessage(%s): %v", m.To, err)
	}
	m.ID = id
	if m.Status == "" {
		m.Status = storage.MessagePending
	}
	if m.NextAttemptAt.IsZero() {
		m.NextAttemptAt = m.CreatedAt
	}
	return m
}

func listMessages(t *testing.T, s storage.Storage, q storage.MessageQuery) []storage.Message {
	t.Helper()
	msgs, err := s.ListMessages(t.Context(), q)
	if err != nil {
		t.Fatalf("ListMessages(%+v): %v", q, err)
	}
	return msgs
}

func getMessage(t *testing.T, s storage.Storage, id int64) storage.Message {
	t.Helper()
	msgs := listMessages(t, s, storage.MessageQuery{After: id - 1, Limit: 1})
	if len(msgs) != 1 || msgs[0].ID != id {
		t.Fatalf("message %d not found: %+v", id, msgs)
	}
	return msgs[0]
}

func messageIDs(msgs []storage.Message) []int64 {
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	return ids
}

func testOutboxLifecycle(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	a := enqueue(t, s, email("a@example.org", base))
	later := email("b@example.org", base)
	later.NextAttemptAt = base.Add(time.Hour) // not due before then
	b := enqueue(t, s, later)
	c := enqueue(t, s, storage.Message{Channel: "sms", To: "+15551230001", Body: []byte("code"), CreatedAt: base})
	if !(0 < a.ID && a.ID < b.ID && b.ID < c.ID) {
		t.Fatalf("ids %d, %d, %d: want increasing", a.ID, b.ID, c.ID)
	}
	equal(t, "ListMessages", listMessages(t, s, storage.MessageQuery{}), []storage.Message{a, b, c})

	// The oldest due message first; a held one is not claimed again while
	// the lease lasts.
	now, lease := base.Add(time.Minute), 5*time.Minute
	got, err := s.ClaimMessage(ctx, now, lease)
	must(t, err)
	want := a
	want.Attempts, want.ClaimedUntil = 1, now.Add(lease)
	equal(t, "first claim", got, want)
	got, err = s.ClaimMessage(ctx, now, lease)
	must(t, err)
	equal(t, "second claim (b is not due)", got.ID, c.ID)
	_, err = s.ClaimMessage(ctx, now, lease)
	wantErr(t, "claim with everything held or not due", err, storage.ErrNotFound)

	// a's worker died: once the lease is over, a is claimed again.
	now = now.Add(lease)
	got, err = s.ClaimMessage(ctx, now, lease)
	must(t, err)
	equal(t, "claim after the lease (id)", got.ID, a.ID)
	equal(t, "claim after the lease (attempts)", got.Attempts, 2)

	// c fails for good: never claimed again, whatever the time.
	must(t, s.MarkMessageFailed(ctx, c.ID, "sms: invalid number", time.Time{}, true))
	dead := getMessage(t, s, c.ID)
	equal(t, "finally failed: status", dead.Status, storage.MessageFailed)
	equal(t, "finally failed: claim released", dead.ClaimedUntil, time.Time{})
	equal(t, "finally failed: a zero next attempt keeps the old", dead.NextAttemptAt, c.NextAttemptAt)

	// A failed attempt: pending again from the given time, claim released.
	retryAt := now.Add(10 * time.Minute)
	must(t, s.MarkMessageFailed(ctx, a.ID, "smtp: 451 try later", retryAt, false))
	failed := getMessage(t, s, a.ID)
	want = a
	want.Attempts, want.LastError, want.NextAttemptAt = 2, "smtp: 451 try later", retryAt
	equal(t, "message after a failed attempt", failed, want)
	_, err = s.ClaimMessage(ctx, retryAt.Add(-time.Second), lease)
	wantErr(t, "claim before the retry time", err, storage.ErrNotFound)
	got, err = s.ClaimMessage(ctx, retryAt, lease)
	must(t, err)
	equal(t, "claim at the retry time", got.ID, a.ID)

	// Sent: the body goes, the message is not claimed again.
	sentAt := retryAt.Add(time.Second)
	must(t, s.MarkMessageSent(ctx, a.ID, sentAt))
	sent := getMessage(t, s, a.ID)
	want.Status, want.SentAt, want.Body, want.Attempts = storage.MessageSent, sentAt, nil, 3
	equal(t, "sent message", sent, want)
	wantErr(t, "MarkMessageFailed(sent)", s.MarkMessageFailed(ctx, a.ID, "late", retryAt, false), storage.ErrNotFound)
	equal(t, "a sent message stays sent", getMessage(t, s, a.ID), sent)

	got, err = s.ClaimMessage(ctx, base.Add(24*time.Hour), lease)
	must(t, err)
	equal(t, "the only claimable message left", got.ID, b.ID)
	_, err = s.ClaimMessage(ctx, base.Add(24*time.Hour), lease)
	wantErr(t, "claim with none pending and free", err, storage.ErrNotFound)

	wantErr(t, "MarkMessageSent(unknown)", s.MarkMessageSent(ctx, 1<<40, now), storage.ErrNotFound)
	wantErr(t, "MarkMessageFailed(unknown)", s.MarkMessageFailed(ctx, 1<<40, "x", now, false), storage.ErrNotFound)
}

func testOutboxList(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	var all []storage.Message
	for i := range 7 {
		all = append(all, enqueue(t, s, email(fmt.Sprintf("u%d@example.org", i), base)))
	}
	must(t, s.MarkMessageSent(ctx, all[1].ID, base))
	must(t, s.MarkMessageFailed(ctx, all[2].ID, "bounced", time.Time{}, true))

	// Pages of 3, oldest first, by cursor.
	var pages [][]int64
	for after := int64(0); ; {
		page := listMessages(t, s, storage.MessageQuery{After: after, Limit: 3})
		if len(page) == 0 {
			break
		}
		pages = append(pages, messageIDs(page))
		after = page[len(page)-1].ID
	}
	ids := messageIDs(all)
	equal(t, "pages", pages, [][]int64{ids[0:3], ids[3:6], ids[6:7]})

	pending := listMessages(t, s, storage.MessageQuery{Status: storage.MessagePending})
	equal(t, "pending", messageIDs(pending), slices.Concat(ids[0:1], ids[3:7]))
	sent := listMessages(t, s, storage.MessageQuery{Status: storage.MessageSent})
	equal(t, "sent", messageIDs(sent), ids[1:2])
	failed := listMessages(t, s, storage.MessageQuery{Status: storage.MessageFailed, After: ids[0]})
	equal(t, "failed after the first", messageIDs(failed), ids[2:3])
}

// testOutboxClaimConcurrent: two workers claiming from one outbox at once
// take every message exactly once.
func testOutboxClaimConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	const messages, workers = 20, 2
	for i := range messages {
		enqueue(t, s, email(fmt.Sprintf("u%d@example.org", i), base))
	}
	now := base.Add(time.Minute)
	var mu sync.Mutex
	claims := map[int64]int{}
	errs := race(workers, func(int) error {
		for range messages {
			m, err := s.ClaimMessage(ctx, now, time.Hour)
			if err != nil {
				if !errors.Is(err, storage.ErrNotFound) {
					return err
				}
				continue
			}
			mu.Lock()
			claims[m.ID]++
			mu.Unlock()
		}
		return nil
	})
	equal(t, "workers without errors", winners(t, errs, nil), workers)
	equal(t, "messages claimed", len(claims), messages)
	for id, n := range claims {
		if n != 1 {
			t.Errorf("message %d claimed %d times", id, n)
		}
	}
	for _, m := range listMessages(t, s, storage.MessageQuery{}) {
		equal(t, fmt.Sprintf("message %d attempts", m.ID), m.Attempts, 1)
	}
}
