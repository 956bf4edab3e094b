package notify

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the templates")

// goldenData is what the golden files are rendered from.
var goldenData = Data{
	Name:      "Dana Whitfield",
	Link:      "https://id.example.com/reset?token=Zm9vYmFyYmF6",
	NewEmail:  "dana.new@example.com",
	Phone:     "+14155550123",
	Expires:   30 * time.Minute,
	ExpiresAt: time.Date(2026, 3, 4, 15, 30, 0, 0, time.UTC),
}

// TestRenderGolden compares each kind's subject and text part, and its HTML
// part, with testdata/<kind>.golden and <kind>.html.golden. Run
// `go test ./idp/internal/notify -run Golden -update` after changing a
// template, and review the diff.
func TestRenderGolden(t *testing.T) {
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			e, err := Render(kind, goldenData)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			golden(t, kind+".golden", "Subject: "+e.Subject+"\n\n"+e.Text)
			golden(t, kind+".html.golden", e.HTML)
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the rendering (run with -update and review the diff):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func TestRenderContent(t *testing.T) {
	tests := []struct {
		kind    string
		subject string
		want    []string // in the text and the HTML part
		notWant []string // in neither
	}{
		{KindInvitation, "You're invited to CliniConnects", []string{goldenData.Link, "30 minutes", "Wednesday 4 March 2026, 15:30 UTC"}, nil},
		{KindPasswordReset, "Reset your CliniConnects password", []string{goldenData.Link, "30 minutes", "Wednesday 4 March 2026, 15:30 UTC"}, nil},
		{KindPasswordChanged, "Your CliniConnects password was changed", []string{"contact your administrator"}, []string{"https://"}},
		{KindEmailChangeVerify, "Confirm your new CliniConnects login email", []string{goldenData.Link, goldenData.NewEmail, "30 minutes"}, nil},
		{KindEmailChangeNotice, "Your CliniConnects login email is being changed", []string{goldenData.NewEmail, "contact your administrator"}, []string{"https://"}},
		{KindEmailChanged, "Your CliniConnects login email was changed", []string{goldenData.NewEmail, "signed out everywhere", "contact your administrator"}, []string{"https://"}},
		{KindEmailInUse, "This address is already a CliniConnects login", []string{"already belongs to your CliniConnects", "nothing has changed"}, []string{"https://", goldenData.NewEmail}},
		{KindMFAEnabled, "Two-step sign-in is now on for your CliniConnects account", []string{"authenticator app", "contact your administrator"}, []string{"https://"}},
		{KindMFARemoved, "Two-step sign-in was turned off for your CliniConnects account", []string{"removed", "contact your administrator"}, []string{"https://"}},
		{KindMFAReset, "An administrator turned off two-step sign-in for your CliniConnects account", []string{"An administrator", "account page"}, []string{"https://"}},
		{KindMFARecoveryUsed, "A recovery code was used to sign in to your CliniConnects account", []string{"recovery codes", "contact your administrator"}, []string{"https://"}},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			e, err := Render(tc.kind, goldenData)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if e.Subject != tc.subject {
				t.Errorf("subject %q, want %q", e.Subject, tc.subject)
			}
			if e.To != "" {
				t.Errorf("To = %q: Render must leave the recipient to the caller", e.To)
			}
			for _, part := range []struct{ name, body string }{{"text", e.Text}, {"html", e.HTML}} {
				for _, s := range append([]string{"CliniConnects", "Dana Whitfield"}, tc.want...) {
					if !strings.Contains(part.body, s) {
						t.Errorf("%s part lacks %q", part.name, s)
					}
				}
				for _, s := range tc.notWant {
					if strings.Contains(part.body, s) {
						t.Errorf("%s part has %q", part.name, s)
					}
				}
			}
		})
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	d := goldenData
	d.Name = `<script>alert("x")</script> & Co`
	d.Link = "https://id.example.com/reset?token=abc&x=<b>"
	e, err := Render(KindPasswordReset, d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.HTML, "<script>") || strings.Contains(e.HTML, "<b>") {
		t.Errorf("HTML part has unescaped markup from the data:\n%s", e.HTML)
	}
	if !strings.Contains(e.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co") {
		t.Errorf("HTML part lacks the escaped name:\n%s", e.HTML)
	}
	if !strings.Contains(e.Text, d.Name) {
		t.Errorf("text part should carry the name as is")
	}
}

func TestRenderRejects(t *testing.T) {
	ok := goldenData
	tests := []struct {
		name string
		kind string
		edit func(*Data)
	}{
		{"unknown kind", "welcome", func(*Data) {}},
		{"reset without link", KindPasswordReset, func(d *Data) { d.Link = "" }},
		{"relative link", KindInvitation, func(d *Data) { d.Link = "/reset?token=x" }},
		{"javascript link", KindEmailChangeVerify, func(d *Data) { d.Link = "javascript:alert(1)" }},
		{"no expiry", KindPasswordReset, func(d *Data) { d.Expires = 0 }},
		{"no expiry time", KindInvitation, func(d *Data) { d.ExpiresAt = time.Time{} }},
		{"notice without new email", KindEmailChangeNotice, func(d *Data) { d.NewEmail = "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := ok
			tc.edit(&d)
			if _, err := Render(tc.kind, d); err == nil {
				t.Errorf("Render(%s) succeeded, want an error", tc.kind)
			}
		})
	}
	// Kinds without a link need nothing but their own fields.
	if _, err := Render(KindPasswordChanged, Data{}); err != nil {
		t.Errorf("password_changed without data: %v", err)
	}
	e, err := Render(KindPasswordChanged, Data{})
	if err != nil || !strings.HasPrefix(e.Text, "Hello,\n") {
		t.Errorf("greeting without a name: %q, %v", e.Text, err)
	}
	e, err = Render(KindPasswordChanged, Data{Name: " Eve\r\nMallory "})
	if err != nil || !strings.HasPrefix(e.Text, "Hello Eve Mallory,\n") {
		t.Errorf("a name with a line break: %q, %v", e.Text, err)
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Minute, "30 minutes"},
		{time.Minute, "1 minute"},
		{time.Hour, "1 hour"},
		{90 * time.Minute, "1 hour 30 minutes"},
		{24 * time.Hour, "24 hours"},
		{168 * time.Hour, "7 days"},
		{49 * time.Hour, "49 hours"},
		{20 * time.Second, "less than a minute"},
	}
	for _, tc := range tests {
		if got := HumanDuration(tc.d); got != tc.want {
			t.Errorf("HumanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestTemplatesParse(t *testing.T) {
	if _, err := parseTemplates(); err != nil {
		t.Fatal(err)
	}
}
