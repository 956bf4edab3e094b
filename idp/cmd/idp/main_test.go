package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine and a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// cli runs idp commands against one data directory.
type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, env: map[string]string{"IDP_DATA_DIR": t.TempDir(), "IDP_LOG_LEVEL": "debug"}}
}

func (c *cli) run(stdin string, args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errb syncBuffer
	code = run(context.Background(), args, env{strings.NewReader(stdin), &out, &errb, func(k string) string { return c.env[k] }})
	return code, out.String(), errb.String()
}

const goodPassword = "violet tractor harbour lantern"

func TestUserAddTwiceFailsSecondTime(t *testing.T) {
	c := newCLI(t)
	add := []string{"user", "add", "--email", "ann@example.com", "--given-name", "Ann", "--family-name", "Lee", "--type", "employee", "--password-stdin"}
	if code, out, errs := c.run(goodPassword+"\n", add...); code != 0 {
		t.Fatalf("first add: %d %s %s", code, out, errs)
	}
	add[3] = "ANN@example.com" // same address, other case
	code, _, errs := c.run(goodPassword+"\n", add...)
	if code == 0 || lastLine(errs) != "idp: email already in use" {
		t.Fatalf("second add: exit %d, stderr %q", code, errs)
	}
	if n := c.countUsers(); n != 1 {
		t.Fatalf("users after duplicate add: %d, want 1", n)
	}
}

func (c *cli) countUsers() int {
	c.t.Helper()
	code, out, errs := c.run("", "user", "list")
	if code != 0 {
		c.t.Fatalf("user list: %d %s", code, errs)
	}
	return strings.Count(out, "\n") - 1 // minus the header
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestBadInputWritesNothing(t *testing.T) {
	base := map[string]string{"--email": "bob@example.com", "--given-name": "Bob", "--family-name": "Stone", "--type": "clinician"}
	for _, tc := range []struct {
		name  string
		edit  map[string]string
		extra []string
		stdin string
		want  string
	}{
		{"malformed email", map[string]string{"--email": "bob@"}, nil, goodPassword, "is not a valid email address"},
		{"malformed phone", nil, []string{"--phone", "555-0123"}, goodPassword, "international form"},
		{"invalid phone", nil, []string{"--phone", "+1 555"}, goodPassword, "not a valid phone number"},
		{"unknown role", nil, []string{"--role", "root"}, goodPassword, `"root" is not a role`},
		{"unknown type", map[string]string{"--type": "robot"}, nil, goodPassword, `"robot" is not a user type`},
		{"missing flag", map[string]string{"--given-name": ""}, nil, goodPassword, "--given-name is required"},
		{"weak password", nil, nil, "password1234567", "password:"},
		{"password with name", nil, nil, "bob stone violet tractor", "password:"},
		{"no password", nil, nil, "", "no password on stdin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			args := []string{"user", "add", "--password-stdin"}
			for k, v := range base {
				if e, ok := tc.edit[k]; ok {
					v = e
				}
				if v != "" {
					args = append(args, k, v)
				}
			}
			args = append(args, tc.extra...)
			code, _, errs := c.run(tc.stdin+"\n", args...)
			line := lastLine(errs)
			if code == 0 || !strings.HasPrefix(line, "idp: ") || !strings.Contains(line, tc.want) {
				t.Fatalf("exit %d, last line %q; want one line containing %q", code, line, tc.want)
			}
			if n := c.countUsers(); n != 0 {
				t.Fatalf("%d users written", n)
			}
		})
	}
}

func TestSecretsNeverInOutput(t *testing.T) {
	c := newCLI(t)
	_, out1, err1 := c.run(goodPassword+"\n", "user", "add", "--email", "cy@example.com", "--given-name", "Cy", "--family-name", "Park", "--type", "employee", "--password-stdin")
	secret := "s3cret-client-value-that-is-long-enough-0123"
	_, out2, err2 := c.run(secret+"\n", "client", "add", "--id", "billing", "--secret-stdin", "--redirect-uri", "https://billing.example.com/cb")
	_, out3, err3 := c.run(goodPassword+"\n", "user", "add", "--email", "cy@example.com", "--given-name", "Cy", "--family-name", "Park", "--type", "employee", "--password-stdin")
	all := out1 + err1 + out2 + err2 + out3 + err3
	if !strings.Contains(all, "created employee") || !strings.Contains(all, "registered confidential client billing") {
		t.Fatalf("commands did not run: %s", all)
	}
	for _, s := range []string{goodPassword, secret, "$argon2id$"} {
		if strings.Contains(all, s) {
			t.Fatalf("output contains %q:\n%s", s, all)
		}
	}
}

func TestServeUnreachableDatabase(t *testing.T) {
	c := newCLI(t)
	c.env["IDP_DATABASE"] = "postgres://nobody:pw@127.0.0.1:1/x"
	code, out, errs := c.run("", "serve")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code == 0 || len(lines) != 1 || !strings.Contains(lines[0], "127.0.0.1:1/x") || !strings.Contains(lines[0], "unreachable") {
		t.Fatalf("exit %d, stderr %q, stdout %q", code, errs, out)
	}
	if strings.Contains(errs, "goroutine") || strings.Contains(errs, ":pw@") {
		t.Fatalf("stack trace or password in %q", errs)
	}
}

func TestInvalidConfigNamesSetting(t *testing.T) {
	c := newCLI(t)
	c.env["IDP_PASSWORD_MIN_LENGTH"] = "4"
	code, _, errs := c.run("", "serve")
	if code == 0 || !strings.Contains(errs, "IDP_PASSWORD_MIN_LENGTH") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

// A provider others can reach must send its emails (sign-in links) by
// SMTP: serve refuses to start without IDP_SMTP_URL, in one line, before it
// writes anything.
func TestServeRefusesFileMailForReachableIssuer(t *testing.T) {
	c := newCLI(t)
	c.env["IDP_ISSUER"] = "https://id.example.com"
	c.env["IDP_LISTEN"] = "127.0.0.1:0"
	// A serve that accepted this would run until stopped.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var outb, errb syncBuffer
	code := run(ctx, []string{"serve"}, env{strings.NewReader(""), &outb, &errb, func(k string) string { return c.env[k] }})
	out, errs := outb.String(), errb.String()
	if code != 1 || strings.Count(strings.TrimSpace(errs), "\n") != 0 ||
		!strings.HasPrefix(errs, "idp: missing IDP_SMTP_URL: ") || !strings.Contains(errs, "IDP_MAIL_FILE") {
		t.Fatalf("exit %d, stderr %q, stdout %q; want exit 1 and one line about IDP_SMTP_URL", code, errs, out)
	}
	assertEmptyDir(t, c.env["IDP_DATA_DIR"])
}

// The key-encryption key is never taken from the command line, where ps
// shows it to every local user.
func TestServeRefusesSecretKeyFlag(t *testing.T) {
	c := newCLI(t)
	const key = "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMTI="
	for _, args := range [][]string{{"serve", "--secret-key", key}, {"serve", "--secret-key=" + key}, {"user", "list", "-secret-key", key}} {
		// A serve that took the key would run until stopped.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var outb, errb syncBuffer
		code := run(ctx, args, env{strings.NewReader(""), &outb, &errb, func(k string) string { return c.env[k] }})
		cancel()
		out, errs := outb.String(), errb.String()
		if code != 1 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "--secret-key is not accepted") ||
			!strings.Contains(errs, "IDP_SECRET_KEY") || strings.Contains(errs+out, key) {
			t.Fatalf("%v: exit %d, stderr %q; want one line naming IDP_SECRET_KEY, without the key", args[:2], code, errs)
		}
	}
	assertEmptyDir(t, c.env["IDP_DATA_DIR"])
}

// assertEmptyDir fails unless dir holds nothing (no store, no key file).
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("data directory written: %v", names)
	}
}

func TestServeBootstrapsAndIsReady(t *testing.T) {
	c := newCLI(t)
	c.env["IDP_LISTEN"] = "127.0.0.1:0"
	c.env["IDP_BOOTSTRAP_EMAIL"] = "root@example.com"
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve"}, env{strings.NewReader(""), &out, &errs, func(k string) string { return c.env[k] }})
	}()
	addrRe := regexp.MustCompile(`running on (\S+)`)
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := addrRe.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		cancel()
		t.Fatalf("server did not start:\n%s\n%s", out.String(), errs.String())
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/readyz: %d %s", resp.StatusCode, body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d: %s", code, errs.String())
	}
	pw := regexp.MustCompile(`Password:\s+(\S+)`).FindStringSubmatch(out.String())
	if pw == nil || !strings.Contains(out.String(), "root@example.com") || !strings.Contains(out.String(), "Issuer:     http://localhost:8080") {
		t.Fatalf("banner lacks issuer or credentials:\n%s", out.String())
	}
	if strings.Contains(errs.String(), pw[1]) {
		t.Fatalf("bootstrap password in the log:\n%s", errs.String())
	}
}

func TestKeysRotate(t *testing.T) {
	c := newCLI(t)
	var kids, accessKIDs []string
	for range 2 {
		code, out, errs := c.run("", "keys", "rotate")
		f := strings.Fields(out)
		if code != 0 || !strings.HasPrefix(out, "rotated: ") || len(f) < 8 {
			t.Fatalf("keys rotate: %d %q %q", code, out, errs)
		}
		kids, accessKIDs = append(kids, f[1]), append(accessKIDs, f[7])
	}
	if kids[0] == kids[1] || accessKIDs[0] == accessKIDs[1] {
		t.Fatalf("two rotations gave one key: ID tokens %v, access tokens %v", kids, accessKIDs)
	}
	if !strings.HasPrefix(kids[1], "rs256-") || !strings.HasPrefix(accessKIDs[1], "es256-") {
		t.Fatalf("rotated to %s (ID tokens) and %s (access tokens), want an RS256 and an ES256 key", kids[1], accessKIDs[1])
	}
}

func TestUserAddInvite(t *testing.T) {
	c := newCLI(t)
	c.env["IDP_ISSUER"] = "https://id.example.com"
	c.env["IDP_MAIL_FILE"] = "true" // development: files although the issuer is not loopback
	code, out, errs := c.run("", "user", "add", "--invite", "--email", "dee@example.com", "--given-name", "Dee", "--family-name", "Moss", "--type", "clinician")
	if code != 0 || !strings.Contains(out, "invited clinician dee@example.com") || !strings.Contains(out, "invitation sent to dee@example.com; the link expires in 7 days") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	_, list, _ := c.run("", "user", "list")
	if !strings.Contains(list, "dee@example.com") || !strings.Contains(list, "invited") {
		t.Fatalf("user list:\n%s", list)
	}
	// Without IDP_SMTP_URL the email is an .eml file in the data directory,
	// with a link under the issuer.
	files, err := filepath.Glob(filepath.Join(c.env["IDP_DATA_DIR"], "mail", "*.eml"))
	if err != nil || len(files) != 1 {
		t.Fatalf("mail files: %v %v", files, err)
	}
	eml, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	to, text := plainPart(t, eml)
	if to != "dee@example.com" || !regexp.MustCompile(`https://id\.example\.com/invite\?token=[A-Za-z0-9_-]{43}\s`).MatchString(text) {
		t.Fatalf("invitation email to %q lacks the link:\n%s", to, text)
	}
}

// When the SMTP server cannot be reached, the user is still invited and
// the email stays queued for the server's worker.
func TestUserAddInviteSMTPDown(t *testing.T) {
	c := newCLI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c.env["IDP_SMTP_URL"] = "smtp://" + addr + "?starttls=none"
	code, out, errs := c.run("", "user", "add", "--invite", "--email", "eve@example.com", "--given-name", "Eve", "--family-name", "Stone", "--type", "employee")
	if code != 0 || !strings.Contains(out, "invited employee eve@example.com") || !strings.Contains(out, "stays queued") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	cfg, err := config.Load(func(k string) string { return c.env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, _, err := openStore(context.Background(), env{stderr: io.Discard}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	msgs, err := store.ListMessages(context.Background(), storage.MessageQuery{})
	if err != nil || len(msgs) != 1 || msgs[0].Status != storage.MessagePending || msgs[0].To != "eve@example.com" || msgs[0].Attempts != 1 {
		t.Fatalf("outbox: %+v %v", msgs, err)
	}
}

func TestUserAddNeedsPasswordOrInvite(t *testing.T) {
	base := []string{"user", "add", "--email", "fay@example.com", "--given-name", "Fay", "--family-name", "Wong", "--type", "employee"}
	for name, extra := range map[string][]string{
		"neither": nil,
		"both":    {"--invite", "--password-stdin"},
	} {
		t.Run(name, func(t *testing.T) {
			c := newCLI(t)
			code, _, errs := c.run(goodPassword+"\n", append(append([]string{}, base...), extra...)...)
			if code == 0 || !strings.Contains(lastLine(errs), "one of --password-stdin") {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			if n := c.countUsers(); n != 0 {
				t.Fatalf("%d users written", n)
			}
		})
	}
}

func TestUserAddInviteBadInputWritesNothing(t *testing.T) {
	c := newCLI(t)
	code, _, errs := c.run("", "user", "add", "--invite", "--email", "not-an-address", "--given-name", "Gil", "--family-name", "Ray", "--type", "employee")
	if code == 0 || !strings.Contains(lastLine(errs), "is not a valid email address") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if n := c.countUsers(); n != 0 {
		t.Fatalf("%d users written", n)
	}
	if files, _ := filepath.Glob(filepath.Join(c.env["IDP_DATA_DIR"], "mail", "*.eml")); len(files) != 0 {
		t.Fatalf("mail written: %v", files)
	}
}

// plainPart returns the recipient and the decoded text/plain part of an
// RFC 5322 message.
func plainPart(t *testing.T, raw []byte) (to, text string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse email: %v", err)
	}
	a, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil {
		t.Fatalf("To: %v", err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(p)
			if err != nil {
				t.Fatal(err)
			}
			return a.Address, string(b)
		}
	}
}

// An admin lifts a sign-in lock from the command line; the unlock is in
// the audit log.
func TestUserUnlock(t *testing.T) {
	c := newCLI(t)
	if code, _, errs := c.run(goodPassword+"\n", "user", "add", "--email", "hal@example.com", "--given-name", "Hal", "--family-name", "Berg", "--type", "employee", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %s", errs)
	}
	cfg, err := config.Load(func(k string) string { return c.env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, _, err := openStore(ctx, env{stderr: io.Discard}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc := &signin.Service{Store: store, Hasher: password.NewHasher(), Sleep: func(context.Context, time.Duration) {}}
	for range 5 {
		svc.Authenticate(ctx, "hal@example.com", "wrong password", "192.0.2.1", "")
	}
	var locked *signin.LockedError
	if _, err := svc.Authenticate(ctx, "hal@example.com", goodPassword, "192.0.2.1", ""); !errors.As(err, &locked) {
		t.Fatalf("before unlock: %v, want LockedError", err)
	}
	code, out, errs := c.run("", "user", "unlock", "--email", "hal@example.com")
	if code != 0 || out != "unlocked hal@example.com: sign-in is open again\n" {
		t.Fatalf("unlock: exit %d, %q %q", code, out, errs)
	}
	if _, err := svc.Authenticate(ctx, "hal@example.com", goodPassword, "192.0.2.1", ""); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	entries, _, err := store.ListAudit(ctx, storage.AuditQuery{Action: "signin.unlock"})
	if err != nil || len(entries) != 1 || entries[0].ActorID != "" {
		t.Fatalf("unlock audit: %+v %v", entries, err)
	}
	if code, out, _ := c.run("", "user", "unlock", "--email", "hal@example.com"); code != 0 || out != "hal@example.com is not locked\n" {
		t.Fatalf("second unlock: %d %q", code, out)
	}
	if code, _, errs := c.run("", "user", "unlock", "--email", "nobody@example.com"); code == 0 || lastLine(errs) != "idp: no user with email nobody@example.com" {
		t.Fatalf("unknown user: %d %q", code, errs)
	}
}
