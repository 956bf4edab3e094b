package session

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Option adjusts a session before Start stores it.
type Option func(*storage.Session)

// ByPhone marks the session as signed in by mobile number and PIN on
// device (see Device). Only such a session answers a client that signs in
// by phone, and a clinician's phone change ends it
// (storage.RevokeMobileGrants).
func ByPhone(device string) Option {
	return func(s *storage.Session) {
		s.SignInMethod = storage.SignInPhone
		s.Device = device
	}
}

// WithDevice sets the session's device description (see Device).
func WithDevice(device string) Option {
	return func(s *storage.Session) { s.Device = device }
}

// maxDeviceBytes bounds a device description.
const maxDeviceBytes = 200

// Device is the description of a browser kept with its session for the
// account page ("where you are signed in"): its User-Agent, without
// control characters or invalid UTF-8, spaces collapsed, cut to
// maxDeviceBytes on a character boundary. It is what the browser says it
// is, shown to its own user, never trusted for anything.
func Device(userAgent string) string {
	var b strings.Builder
	space := false
	for _, r := range userAgent {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case r == utf8.RuneError, unicode.IsControl(r):
			continue
		}
		if space {
			if b.Len()+1 > maxDeviceBytes {
				break
			}
			b.WriteByte(' ')
			space = false
		}
		if b.Len()+utf8.RuneLen(r) > maxDeviceBytes {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
