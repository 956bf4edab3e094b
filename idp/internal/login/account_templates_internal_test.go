package login

import (
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

func TestAccountTemplatesParse(t *testing.T) {
	p, err := parseAccountPages(templateFS)
	if err != nil {
		t.Fatalf("parseAccountPages: %v", err)
	}
	for _, name := range accountPageNames {
		if p[name] == nil || p[name].Lookup("content") == nil || p[name].Lookup("field") == nil {
			t.Errorf("page %s missing or without the field partial", name)
		}
	}
	broken := fstest.MapFS{
		"templates/layout.html":         {Data: []byte(`{{define "layout"}}{{template "content" .}}{{end}}`)},
		"templates/partial_fields.html": {Data: []byte(`{{define "field"}}{{.ID}{{end}}`)},
	}
	for _, n := range accountPageNames {
		broken["templates/"+n] = &fstest.MapFile{Data: []byte(`{{define "content"}}{{end}}`)}
	}
	if _, err := parseAccountPages(broken); err == nil {
		t.Error("a broken partial parsed")
	}
}

// Every account page renders with its data: fields labelled, errors tied
// to their inputs, passwords never echoed.
func TestAccountPagesRender(t *testing.T) {
	p, err := parseAccountPages(templateFS)
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{pages: p, log: discardLogger(), acct: &account.Service{Policy: password.DefaultPolicy()}}
	u := storage.User{GivenName: "Ann", FamilyName: "Lee", Email: "ann@example.com", Type: storage.UserTypeClinician, Roles: []storage.Role{storage.RoleAdmin}}

	acct := h.newAccountPage(u)
	acct.Current.Error = msgCurrentWrong
	acct.NewEmail.Value = "new@example.com"
	focusFirstError(&acct.Current, &acct.New, &acct.Confirm)
	reset := h.resetPage("tok", u)
	reset.Confirm.Error = msgPasswordsDiff
	for name, tc := range map[string]struct {
		page string
		data any
		want []string
	}{
		"account": {pageAccount, acct, []string{
			`<label for="current-password">`, `aria-describedby="current-password-error"`, `aria-invalid="true"`,
			`id="current-password-error">The current password is incorrect.`, `value="new@example.com"`,
			"Administrator", "Clinician", `autofocus`, `aria-describedby="new-password-hint"`,
		}},
		"reset": {pageReset, reset, []string{
			`name="token" value="tok"`, `autocomplete="username"`, `autocomplete="new-password"`,
			`id="confirm-password-error">The passwords do not match.`, "At least 15 characters",
		}},
		"forgot":     {pageForgot, newForgotPage("a@b.example"), []string{`inputmode="email"`, `value="a@b.example"`, `action="/forgot"`}},
		"link error": {pageLinkError, expiredTexts[storage.PurposeInvitation], []string{"has expired"}},
	} {
		rec := httptest.NewRecorder()
		h.render(rec, httptest.NewRequest("GET", "/", nil), 200, tc.page, tc.data)
		body := rec.Body.String()
		if rec.Code != 200 {
			t.Errorf("%s: status %d: %s", name, rec.Code, body)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: lacks %q", name, w)
			}
		}
		if strings.Count(body, "autofocus") > 1 {
			t.Errorf("%s: more than one autofocus", name)
		}
	}
}
