package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// adminScopes are what the admin API's client asks for: admin for the API,
// offline_access for a refresh token to renew the access token with.
const adminScopes = "openid " + adminapi.Scope + " offline_access"

// tokenMargin: an access token with less life left than this is refreshed
// (untimed) before the next timed call.
const tokenMargin = time.Minute

// adminSession is the bench user's admin API access: signed in once
// through the browser flow with the admin client, renewed by the
// refresh_token grant when the access token is about to expire.
type adminSession struct {
	p         *provider
	access    string
	refreshTk string
	expires   time.Time
}

func newAdminSession(ctx context.Context, p *provider) (*adminSession, error) {
	c, err := p.loginAs(ctx, p.admin)
	if err != nil {
		return nil, fmt.Errorf("admin sign-in: %w", err)
	}
	t, err := p.exchange(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("admin code exchange: %w", err)
	}
	s := &adminSession{p: p}
	s.set(t)
	return s, nil
}

func (s *adminSession) set(t tokens) {
	s.access, s.refreshTk = t.AccessToken, t.RefreshToken
	s.expires = time.Now().Add(time.Duration(t.ExpiresIn) * time.Second)
}

// fresh refreshes the access token when it expires within tokenMargin.
func (s *adminSession) fresh(ctx context.Context) error {
	if time.Until(s.expires) > tokenMargin {
		return nil
	}
	t, err := s.p.refreshAs(ctx, s.p.admin, s.refreshTk)
	if err != nil {
		return fmt.Errorf("admin token refresh: %w", err)
	}
	s.set(t)
	return nil
}

// token is the client's TokenSource: the current access token, no I/O, so
// that nothing but the request itself is timed.
func (s *adminSession) token(context.Context) (string, error) { return s.access, nil }

// apiCase is one GET /admin/v1/employees request timed through the typed
// client.
type apiCase struct {
	op, note string
	o        adminapi.ListUsersOptions
}

// apiOps times the admin API's employee list and search (pages of 50)
// through shared/adminapi's client over HTTP, as the bench user (a
// super_admin, who may view everyone) with an access token of scope admin.
// Every request is authenticated as in production: JWT signature, token,
// client and user read from the store.
func apiOps(ctx context.Context, p *provider, n int) ([]*opResult, error) {
	s, err := newAdminSession(ctx, p)
	if err != nil {
		return nil, err
	}
	client := adminapi.NewClient(p.issuer, p.api, s.token)
	me, err := client.Me(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin API /me: %w", err)
	}
	if me.User.Email != p.email || !slices.Contains(me.User.Roles, adminapi.RoleSuperAdmin) {
		return nil, fmt.Errorf("admin API /me: want the bench user as super_admin, got %s %v", me.User.Email, me.User.Roles)
	}
	deep, deepNote, err := deepCursor(ctx, client)
	if err != nil {
		return nil, err
	}
	cases := []apiCase{
		{"api.employees.list", "GET /admin/v1/employees, first page of 50 (employees only: ~30 % of users); every request checks the bearer JWT (scope admin), token, client and user", adminapi.ListUsersOptions{Limit: 50}},
		{"api.employees.list.deep", "GET /admin/v1/employees, page of 50 after the NextCursor " + deepNote, adminapi.ListUsersOptions{Limit: 50, Cursor: deep}},
		{"api.employees.search", `GET /admin/v1/employees?q=smi, first page of 50`, adminapi.ListUsersOptions{Search: "smi", Limit: 50}},
		{"api.employees.search.none", `GET /admin/v1/employees?q=qzxj (matches nobody)`, adminapi.ListUsersOptions{Search: "qzxj", Limit: 50}},
	}
	var out []*opResult
	for _, c := range cases {
		if _, err := client.ListEmployees(ctx, c.o); err != nil { // warm-up
			return nil, fmt.Errorf("%s: %w", c.op, err)
		}
		var smp sampler
		var rows int
		smp.start()
		for range n {
			if time.Until(s.expires) <= tokenMargin { // rare: refresh outside the timed stretch
				smp.stop()
				if err := s.fresh(ctx); err != nil {
					return nil, err
				}
				smp.start()
			}
			if err := smp.time(func() error {
				page, err := client.ListEmployees(ctx, c.o)
				rows = len(page.Items)
				return err
			}); err != nil {
				return nil, fmt.Errorf("%s: %w", c.op, err)
			}
		}
		smp.stop()
		r := smp.result(c.op, kindAPI)
		r.Rows = rows
		r.Note = c.note
		out = append(out, r)
	}
	return out, nil
}

// deepCursor walks the employee list (untimed) with the client's cursors
// and returns the cursor about 90 % of the way through, as store.list.deep
// starts 90 % through the directory: pages of 500, or of 50 when 500 give
// no second page. With a single page of 50 there is no cursor: "" lists
// the first page, and the note says so.
func deepCursor(ctx context.Context, c *adminapi.Client) (string, string, error) {
	for _, limit := range []int{500, 50} {
		var cursors []string
		seen := 0
		for cursor := ""; ; {
			page, err := c.ListEmployees(ctx, adminapi.ListUsersOptions{Limit: limit, Cursor: cursor})
			if err != nil {
				return "", "", fmt.Errorf("walk the employee list: %w", err)
			}
			seen += len(page.Items)
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
			cursors = append(cursors, cursor)
			if len(cursors) > 1_000_000/limit {
				return "", "", errors.New("walk the employee list: the cursor never ends")
			}
		}
		if len(cursors) > 0 {
			i := len(cursors) * 9 / 10
			return cursors[i], fmt.Sprintf("90 %% through the employees (after %d of %d; pages walked untimed)", (i+1)*limit, seen), nil
		}
		if seen <= 50 {
			break
		}
	}
	return "", "(none: one page only, so this is the first page)", nil
}
