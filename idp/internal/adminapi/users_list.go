package adminapi

import (
	"encoding/base64"
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
	// listRounds bounds how many store pages one list request reads to
	// fill a page with users the caller may view.
	listRounds = 4
)

// list answers GET /{section}: search, filters, cursor pagination by id.
// Users the caller may not view (those ranking at or above them, for all
// but super admins) are left out; the cursor still moves past them.
func (u userHandlers) list(w http.ResponseWriter, r *http.Request, c *call) {
	if d := authz.Can(c.actor, u.s.read, nil); d != nil {
		u.h.fail(w, r, d)
		return
	}
	q, err := parseUserQuery(r.URL.RawQuery)
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	q.Type = u.s.typ
	limit := q.Limit
	var out []api.User
	next := ""
	for round := 0; round < listRounds; round++ {
		q.Limit = limit - len(out)
		page, more, err := u.h.d.Store.ListUsers(r.Context(), q)
		if err != nil {
			u.h.fail(w, r, err)
			return
		}
		for _, usr := range page {
			if authz.Can(c.actor, u.s.read, &usr) == nil {
				out = append(out, toAPIUser(usr))
			}
		}
		if more == "" {
			next = ""
			break
		}
		// Resume after the last user read, viewable or not.
		q.After, next = more, more
		if len(out) >= limit {
			break
		}
	}
	if out == nil {
		out = []api.User{}
	}
	writeJSON(w, http.StatusOK, api.UserList{Items: out, NextCursor: encodeCursor(next)})
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
