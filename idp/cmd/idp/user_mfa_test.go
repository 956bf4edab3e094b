package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
)

func TestUserMFAReset(t *testing.T) {
	c := newCLI(t)
	c.env["IDP_ISSUER"] = "https://id.example.com"
	c.env["IDP_MAIL_FILE"] = "true" // development: files although the issuer is not loopback
	add := []string{"user", "add", "--email", "ann@example.com", "--given-name", "Ann", "--family-name", "Lee", "--type", "employee", "--role", "admin", "--password-stdin"}
	if code, out, errs := c.run(goodPassword+"\n", add...); code != 0 {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	if code, _, errs := c.run("", "user", "mfa", "reset", "--email", "ann@example.com"); code == 0 || lastLine(errs) != "idp: ann@example.com has no authenticator app set up" {
		t.Fatalf("reset without an app: exit %d, %q", code, errs)
	}
	if code, _, errs := c.run("", "user", "mfa", "reset", "--email", "nobody@example.com"); code == 0 || lastLine(errs) != "idp: no user with email nobody@example.com" {
		t.Fatalf("reset of an unknown user: exit %d, %q", code, errs)
	}
	if code, _, errs := c.run("", "user", "mfa", "reset"); code == 0 || lastLine(errs) != "idp: --email is required" {
		t.Fatalf("reset without --email: exit %d, %q", code, errs)
	}

	// Ann sets up an app, as the account page does, on the same store and
	// key-encryption key.
	ctx := context.Background()
	dir := c.env["IDP_DATA_DIR"]
	st, err := sqlstore.Open(ctx, filepath.Join(dir, "idp.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kek, err := keys.LoadOrCreateKEK("", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	outbox, _ := notify.NewOutbox(kek)
	m, err := account.NewMFA(&account.Service{Store: st, Outbox: outbox}, kek, &signin.Service{Store: st}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.GetUserByEmail(ctx, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	e, err := m.BeginEnrollment(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(strings.ReplaceAll(e.Secret, " ", ""), time.Now())
	if _, err := m.ConfirmEnrollment(ctx, u.ID, code, ""); err != nil {
		t.Fatal(err)
	}

	exit, out, errs := c.run("", "user", "mfa", "reset", "--email", "ann@example.com")
	if exit != 0 || !strings.Contains(out, "two-step sign-in reset for ann@example.com") || !strings.Contains(out, "their role requires one") {
		t.Fatalf("reset: exit %d\nstdout %s\nstderr %s", exit, out, errs)
	}
	if on, err := m.Enabled(ctx, u.ID); on || err != nil {
		t.Fatalf("still enabled: %v %v", on, err)
	}
	es, _, err := st.ListAudit(ctx, storage.AuditQuery{TargetID: u.ID, Action: account.ActionMFAReset})
	if err != nil || len(es) != 1 || es[0].ActorID != "" {
		t.Fatalf("audit: %+v %v", es, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "mail", "*.eml"))
	found := false
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if to, text := plainPart(t, b); to == "ann@example.com" && strings.Contains(text, "An administrator has removed the authenticator app") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no reset notice among %d mail files", len(files))
	}
}
