package adminapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/cliniconnects/identity/idp/internal/authz"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// listRounds bounds how many store pages one audit list request reads to
// fill a page with entries the caller may view.
const listRounds = 4

// listAudit answers GET /audit, newest first. With audit.all every entry;
// with audit.records only entries about user records the caller may view
// (their Employees and Clinicians sections), the cursor moving past the
// rest.
func (h *Handler) listAudit(w http.ResponseWriter, r *http.Request, c *call) {
	perms := authz.Permissions(c.actor.Roles)
	all := perms.Has(api.PermAuditAll)
	if !all && authz.Can(c.actor, api.PermAuditRecords, nil) != nil {
		h.fail(w, r, apiErr(api.CodeForbidden, "your roles do not allow reading the audit log"))
		return
	}
	q, err := parseAuditQuery(r.URL.RawQuery)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	visible := func(storage.AuditEntry) (bool, error) { return true, nil }
	if !all {
		seen := map[string]bool{}
		visible = func(e storage.AuditEntry) (bool, error) {
			if e.TargetType != targetTypeUser {
				return false, nil
			}
			if ok, done := seen[e.TargetID]; done {
				return ok, nil
			}
			u, err := h.d.Store.GetUser(ctx, e.TargetID)
			if errors.Is(err, storage.ErrNotFound) {
				seen[e.TargetID] = false
				return false, nil
			}
			if err != nil {
				return false, err
			}
			ok := canViewUser(c, u)
			seen[e.TargetID] = ok
			return ok, nil
		}
	}
	limit := q.Limit
	out := []api.AuditEntry{}
	var next int64
	for round := 0; round < listRounds; round++ {
		q.Limit = limit - len(out)
		page, more, err := h.d.Store.ListAudit(ctx, q)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, e := range page {
			ok, err := visible(e)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			if ok {
				out = append(out, toAPIAudit(e))
			}
		}
		next = more
		if more == 0 || len(out) >= limit {
			break
		}
		q.Before = more
	}
	cursor := ""
	if next != 0 {
		cursor = strconv.FormatInt(next, 10)
	}
	writeJSON(w, http.StatusOK, api.AuditList{Items: out, NextCursor: cursor})
}

// canViewUser reports whether the caller may view u in its section.
func canViewUser(c *call, u storage.User) bool {
	perm := api.PermEmployeesRead
	if u.Type == storage.UserTypeClinician {
		perm = api.PermCliniciansRead
	}
	return authz.Can(c.actor, perm, &u) == nil
}

func parseAuditQuery(raw string) (storage.AuditQuery, error) {
	q := storage.AuditQuery{Limit: defaultLimit}
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
		case "actor":
			q.ActorID = val
		case "target":
			q.TargetID = val
		case "action":
			q.Action = val
		case "from", "to":
			t, err := time.Parse(time.RFC3339Nano, val)
			if err != nil {
				bad[k] = "must be a time in RFC 3339, e.g. 2025-01-31T09:00:00Z"
			}
			if k == "from" {
				q.From = t
			} else {
				q.To = t
			}
		case "cursor":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n <= 0 {
				bad[k] = "is not a cursor this API returned"
			}
			q.Before = n
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
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		bad["to"] = "must be after from"
	}
	if len(bad) > 0 {
		return q, fieldsErr(api.CodeInvalidQuery, "some query parameters are invalid", bad)
	}
	return q, nil
}
