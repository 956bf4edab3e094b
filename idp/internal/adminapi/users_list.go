package adminapi

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cliniconnects/identity/idp/internal/authz"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// Page sizes.
const (
	defaultLimit = 50
	maxLimit     = 500
	maxSearchLen = 100
)

// list answers GET /{section}: search, filters, cursor pagination by id.
// Users the caller may not view (those ranking at or above them, for all
// but super admins) are left out by the query itself, so that neither the
// page nor its next_cursor nor whether there is one depends on them.
func (u userHandlers) list(w http.ResponseWriter, r *http.Request, c *call) {
	q, err := parseUserQuery(r.URL.RawQuery)
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	q.Type = u.s.typ
	q.WithoutRoles = authz.OutOfReach(c.actor)
	page, next, err := u.h.d.Store.ListUsers(r.Context(), q)
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	out := make([]storage.User, 0, len(page))
	for _, usr := range page {
		if d := authz.Can(c.actor, u.s.read, &usr); d != nil {
			// The query and the rule disagree: answer nothing rather
			// than a page or cursor that may name this user.
			u.h.fail(w, r, fmt.Errorf("adminapi: list returned user %s out of the caller's reach: %w", usr.ID, d))
			return
		}
		out = append(out, usr)
	}
	items, err := u.h.apiUsers(r.Context(), out)
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.UserList{Items: items, NextCursor: encodeCursor(next)})
}

// parseUserQuery reads q, status, role, cursor and limit; anything else
// is refused so that a misspelt filter does not silently list everyone.
func parseUserQuery(raw string) (storage.UserQuery, error) {
	q := storage.UserQuery{Limit: defaultLimit}
	v, err := parseQuery(raw)
	if err != nil {
		return q, err
	}
	bad := map[string]string{}
	for k, vals := range v {
		if len(vals) != 1 {
			bad[k] = "give at most one value"
			continue
		}
		val := vals[0]
		switch k {
		case "q":
			val = strings.TrimSpace(val)
			if !utf8.ValidString(val) || utf8.RuneCountInString(val) > maxSearchLen {
				bad[k] = "must be at most 100 characters of text"
			}
			q.Search = val
		case "status":
			q.Status = storage.UserStatus(val)
			if !q.Status.Valid() {
				bad[k] = "must be invited, active or disabled"
			}
		case "role":
			q.Role = storage.Role(val)
			if !q.Role.Valid() {
				bad[k] = "must be super_admin, admin or assigning_manager"
			}
		case "cursor":
			after, ok := decodeCursor(val)
			if !ok {
				bad[k] = "is not a cursor this API returned"
			}
			q.After = after
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > maxLimit {
				bad[k] = "must be a whole number from 1 to 500"
			}
			q.Limit = n
		default:
			bad[k] = "unknown query parameter"
		}
	}
	if len(bad) > 0 {
		return q, fieldsErr(api.CodeInvalidQuery, "some query parameters are invalid", bad)
	}
	return q, nil
}

// Cursors are opaque to clients: the id to resume after, encoded.
const cursorPrefix = "u1:"

func encodeCursor(after string) string {
	if after == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + after))
}

func decodeCursor(s string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", false
	}
	after, ok := strings.CutPrefix(string(b), cursorPrefix)
	return after, ok && after != "" && utf8.ValidString(after)
}

// parseQuery parses a raw query string, refusing what does not parse
// (url.Query would drop it silently).
func parseQuery(raw string) (url.Values, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, apiErr(api.CodeInvalidQuery, "the query string is malformed")
	}
	return v, nil
}
