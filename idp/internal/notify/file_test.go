package notify

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileSenderWritesEMLAndLogsLink(t *testing.T) {
	var logs bytes.Buffer
	dir := filepath.Join(t.TempDir(), "mail")
	f := &FileSender{Dir: dir, From: testFrom, Issuer: "https://id.example.com",
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	link := "https://id.example.com/reset?token=file-sender-token"
	e := testEmail(t, link)
	// A link elsewhere, before the issuer's, is not the one logged.
	e.Text = "See https://status.example.com first.\n" + e.Text
	if err := f.Send(t.Context(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}

	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), ".eml") {
		t.Fatalf("mail dir has %v (%v), want one .eml file", entries, err)
	}
	path := filepath.Join(dir, entries[0].Name())
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", di.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, received{From: "no-reply@id.example.com", To: []string{e.To}, Data: raw}, e, link)

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one log line, got:\n%s", logs.String())
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil {
		t.Fatal(err)
	}
	if entry["msg"] != "email written" || entry["path"] != path || entry["to"] != e.To || entry["link"] != link {
		t.Errorf("log line %v, want msg=email written path=%s to=%s link=%s", entry, path, e.To, link)
	}
}

func TestFileSenderSameBytesAsSMTP(t *testing.T) {
	srv := newSMTPServer(t)
	s, err := NewSMTPSender(srv.url(), testFrom)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := &FileSender{Dir: dir, From: testFrom, Logger: slog.New(slog.DiscardHandler)}
	e := testEmail(t, "https://id.example.com/reset?token=same")
	if err := s.Send(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	if err := f.Send(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	raw, _ := os.ReadFile(filepath.Join(dir, entries[0].Name()))
	viaSMTP, viaFile := parseMail(t, srv.messages()[0].Data), parseMail(t, raw)
	if viaSMTP.Text != viaFile.Text || viaSMTP.HTML != viaFile.HTML ||
		viaSMTP.Header.Get("Subject") != viaFile.Header.Get("Subject") || viaSMTP.Header.Get("From") != viaFile.Header.Get("From") {
		t.Errorf("the file and the SMTP delivery differ")
	}
}

func TestFirstLink(t *testing.T) {
	tests := []struct{ text, issuer, want string }{
		{"go to https://id.example.com/reset?token=a now", "https://id.example.com", "https://id.example.com/reset?token=a"},
		{"https://id.example.com.evil.test/x then https://id.example.com/y", "https://id.example.com/", "https://id.example.com/y"},
		{"no link here", "https://id.example.com", ""},
		{"http://localhost:8080/invite?token=b\n", "http://localhost:8080", "http://localhost:8080/invite?token=b"},
	}
	for _, tc := range tests {
		if got := firstLink(tc.text, tc.issuer); got != tc.want {
			t.Errorf("firstLink(%q, %q) = %q, want %q", tc.text, tc.issuer, got, tc.want)
		}
	}
}
