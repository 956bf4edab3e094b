package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// tokenBytes is the size of a one-time link secret: 256 bits from
// crypto/rand, twice the 128 bits the design asks for at least.
const tokenBytes = 32

// Link errors. Every page that takes a link answers them with a page of its
// own and a way to get a new link; nothing is changed.
var (
	// ErrInvalidLink: the link is unknown, malformed or altered, of another
	// purpose, expired or replaced by a newer one. ErrLinkExpired and
	// ErrLinkReplaced wrap it, so errors.Is(err, ErrInvalidLink) holds for
	// every one of them.
	ErrInvalidLink = errors.New("account: invalid link")
	// ErrLinkExpired: the link was valid but its time ran out.
	ErrLinkExpired = fmt.Errorf("account: link expired: %w", ErrInvalidLink)
	// ErrLinkReplaced: a newer link of the same kind was sent since.
	ErrLinkReplaced = fmt.Errorf("account: link replaced by a newer one: %w", ErrInvalidLink)
	// ErrLinkUsed: the link has already been used once.
	ErrLinkUsed = errors.New("account: link already used")
)

// newToken returns a fresh link secret (base64url, no padding) and the hash
// under which it is stored.
func newToken() (raw, hash string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("account: reading random token: %w", err)
	}
	raw = base64.RawURLEncoding.EncodeToString(b)
	return raw, hashToken(raw), nil
}

// hashToken is the store key of a link secret: the hex SHA-256 of the
// string in the link.
func hashToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether raw has the shape of a link secret, so that
// garbage never reaches the store.
func wellFormed(raw string) bool {
	if len(raw) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(raw)
	return err == nil
}

// link builds the absolute URL of path carrying raw, from the configured
// issuer (never from a request's Host header).
func (s *Service) link(path, raw string) string {
	return s.Issuer + path + "?" + url.Values{"token": {raw}}.Encode()
}

// LinkInfo is what a page needs to show about a valid, unused link before
// it is used.
type LinkInfo struct {
	User      storage.User
	ExpiresAt time.Time
	// NewEmail is the address an email change link confirms.
	NewEmail string
}

// CheckLink tells whether raw is a usable link of purpose (one of the
// storage.Purpose… constants) without using it: pages call it on GET to
// show the form or a clear error. It returns ErrInvalidLink (or one that
// wraps it) or ErrLinkUsed when the link cannot be used.
func (s *Service) CheckLink(ctx context.Context, purpose, raw string) (LinkInfo, error) {
	t, err := s.peek(ctx, purpose, raw)
	if err != nil {
		return LinkInfo{}, err
	}
	u, err := s.Store.GetUser(ctx, t.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return LinkInfo{}, ErrInvalidLink
	}
	if err != nil {
		return LinkInfo{}, fmt.Errorf("account: loading the link's user: %w", err)
	}
	if !linkApplies(t, u) {
		s.log().InfoContext(ctx, "link for a user in another state or at another address refused", "purpose", purpose, "user", u)
		return LinkInfo{}, ErrInvalidLink
	}
	return LinkInfo{User: u, ExpiresAt: t.ExpiresAt, NewEmail: t.SentTo}, nil
}

// linkApplies reports whether link t may still act on u, its user. An
// invitation works only for an invited user, a reset or email change only
// for an active one: a disabled user's links do nothing. An invitation or
// reset works only while the address it was sent to is still u's email,
// so a link sent to an address an admin has since corrected or replaced
// sets no password and verifies nothing; an email change only while u's
// email is still the one it was requested from.
func linkApplies(t storage.OneTimeToken, u storage.User) bool {
	switch t.Purpose {
	case storage.PurposeInvitation:
		return u.Status == storage.StatusInvited && t.SentTo == u.Email
	case storage.PurposePasswordReset:
		return u.Status == storage.StatusActive && t.SentTo == u.Email
	case storage.PurposeEmailChange:
		return u.Status == storage.StatusActive && t.Data == u.Email && t.SentTo != ""
	case storage.PurposeMobilePIN:
		// Earned with a code sent to SentTo: only while that is still the
		// active clinician's number.
		return mobileUser(u, t.SentTo)
	}
	return false
}

// peek reads the token of raw and checks, without using it, that it is of
// purpose, unused, not replaced and unexpired.
func (s *Service) peek(ctx context.Context, purpose, raw string) (storage.OneTimeToken, error) {
	if !wellFormed(raw) {
		return storage.OneTimeToken{}, ErrInvalidLink
	}
	t, err := s.Store.GetOneTimeToken(ctx, hashToken(raw))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return t, ErrInvalidLink
	case err != nil:
		return t, fmt.Errorf("account: reading link: %w", err)
	}
	return t, tokenState(t, purpose, s.now())
}

// tokenState says why t cannot be used for purpose at now, or nil.
func tokenState(t storage.OneTimeToken, purpose string, now time.Time) error {
	switch {
	case t.Purpose != purpose:
		return ErrInvalidLink
	case !t.UsedAt.IsZero():
		return ErrLinkUsed
	case !t.VoidedAt.IsZero():
		return ErrLinkReplaced
	case !t.ExpiresAt.After(now):
		return ErrLinkExpired
	}
	return nil
}

// use marks the token of raw used inside tx; exactly one caller wins. The
// store's answers are mapped to the link errors.
func (s *Service) use(ctx context.Context, tx storage.Storage, purpose, raw string, now time.Time) (storage.OneTimeToken, error) {
	t, err := tx.UseOneTimeToken(ctx, hashToken(raw), purpose, now)
	switch {
	case errors.Is(err, storage.ErrReused):
		return t, ErrLinkUsed
	case errors.Is(err, storage.ErrNotFound):
		// Expired or replaced between the check and now: say which when
		// the token tells.
		if prev, gerr := tx.GetOneTimeToken(ctx, hashToken(raw)); gerr == nil {
			if st := tokenState(prev, purpose, now); st != nil {
				return t, st
			}
		}
		return t, ErrInvalidLink
	case err != nil:
		return t, fmt.Errorf("account: using link: %w", err)
	}
	return t, nil
}
