package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Default link lifetimes, as in the configuration's defaults.
const (
	DefaultResetTTL       = 30 * time.Minute
	DefaultInviteTTL      = 7 * 24 * time.Hour
	DefaultEmailChangeTTL = 24 * time.Hour
)

// Link paths, relative to the issuer. The login pages serve them.
const (
	ResetPath        = "/reset"
	InvitePath       = "/invite"
	EmailConfirmPath = "/account/email/confirm"
)

// message is one email to render and queue.
type message struct {
	kind string
	to   string
	data notify.Data
}

// render renders m (pure computation: no I/O) with its recipient.
func (s *Service) render(m message) (notify.Email, error) {
	e, err := notify.Render(m.kind, m.data)
	if err != nil {
		return notify.Email{}, fmt.Errorf("account: rendering %s email: %w", m.kind, err)
	}
	e.To = m.to
	return e, nil
}

// enqueue queues e in tx: it is sent only if tx commits.
func (s *Service) enqueue(ctx context.Context, tx storage.Storage, e notify.Email) error {
	if s.Outbox == nil {
		return errors.New("account: Service.Outbox is not set")
	}
	if err := s.Outbox.Enqueue(ctx, tx, e); err != nil {
		return fmt.Errorf("account: queueing email: %w", err)
	}
	return nil
}

// queued tells whoever delivers mail that a committed transaction queued
// some.
func (s *Service) queued() {
	if s.Queued != nil {
		s.Queued()
	}
}

func (s *Service) resetTTL() time.Duration  { return orDefault(s.ResetTTL, DefaultResetTTL) }
func (s *Service) inviteTTL() time.Duration { return orDefault(s.InviteTTL, DefaultInviteTTL) }
func (s *Service) emailChangeTTL() time.Duration {
	return orDefault(s.EmailChangeTTL, DefaultEmailChangeTTL)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// LinkTTL is how long a link of purpose (storage.Purpose…) works.
func (s *Service) LinkTTL(purpose string) time.Duration {
	switch purpose {
	case storage.PurposeInvitation:
		return s.inviteTTL()
	case storage.PurposeEmailChange:
		return s.emailChangeTTL()
	}
	return s.resetTTL()
}
