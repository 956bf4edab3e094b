package keys

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// jwksDoc is the encoded JWKS and the published entries it was made from,
// in order: the ID token keys', then the access token keys'. Entries are
// new objects on every reload of a Manager's key list, so the same
// pointers mean the same key list, and the same subset of it published.
type jwksDoc struct {
	from []*entry
	body []byte
}

// JWKS is Public as a JSON Web Key Set document (RFC 7517 §5), encoded as
// encoding/json's Encoder writes it (with its trailing newline). The bytes
// are made again whenever the keys published change — a Manager reloaded
// its key list (Rotate, Ensure, the CacheTTL expiry, an unknown kid) or a
// retired key expired — and shared otherwise: callers must not modify
// them. Each call checks the key lists exactly as Public does, so a
// rotation shows in the JWKS as soon as in Public.
func (s *Set) JWKS(ctx context.Context) ([]byte, error) {
	idNow := s.ID.now()
	id, err := s.ID.cached(ctx, idNow)
	if err != nil {
		return nil, err
	}
	accessNow := s.Access.now()
	access, err := s.Access.cached(ctx, accessNow)
	if err != nil {
		return nil, err
	}
	if d := s.jwks.Load(); d != nil && samePublished(d.from, id, idNow, access, accessNow) {
		return d.body, nil
	}
	d := &jwksDoc{}
	var set jose.JSONWebKeySet
	add := func(list []*entry, now time.Time) {
		for _, e := range list {
			if isPublished(e, now) {
				d.from = append(d.from, e)
				set.Keys = append(set.Keys, e.jwk())
			}
		}
	}
	add(id, idNow)
	add(access, accessNow)
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(set); err != nil {
		return nil, fmt.Errorf("keys: encoding the JWKS: %w", err)
	}
	d.body = buf.Bytes()
	s.jwks.Store(d)
	return d.body, nil
}

// samePublished reports whether from is exactly the published entries of
// id at idNow followed by those of access at accessNow.
func samePublished(from, id []*entry, idNow time.Time, access []*entry, accessNow time.Time) bool {
	rest, ok := matchPublished(from, id, idNow)
	if !ok {
		return false
	}
	rest, ok = matchPublished(rest, access, accessNow)
	return ok && len(rest) == 0
}

// matchPublished reports whether from begins with the published entries
// of list at now, and returns what follows them.
func matchPublished(from, list []*entry, now time.Time) ([]*entry, bool) {
	for _, e := range list {
		if !isPublished(e, now) {
			continue
		}
		if len(from) == 0 || from[0] != e {
			return nil, false
		}
		from = from[1:]
	}
	return from, true
}
