package oidcprovider

import (
	"context"
	"errors"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// sessionDevice is the device a new refresh token family is held on, for
// the account page's list of sign-ins: the device description of the
// browser session that signed the request in (its User-Agent when it
// signed in). That is the user's phone or computer; the token request's
// own User-Agent would be the app's HTTP library, or for a web module its
// back end. "" when the request had no session or it has ended.
func (s *Storage) sessionDevice(ctx context.Context, sessionID string, now time.Time) string {
	if sessionID == "" {
		return ""
	}
	ses, err := s.store.GetSession(ctx, sessionID, now)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			s.logger.WarnContext(ctx, "reading the session of a code exchange for its device", "err", err)
		}
		return ""
	}
	return ses.Device
}
