package login

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbeddedTemplatesParse(t *testing.T) {
	p, err := parsePages(templateFS)
	if err != nil {
		t.Fatalf("parsePages: %v", err)
	}
	for _, name := range pageNames {
		if p[name] == nil || p[name].Lookup("content") == nil {
			t.Errorf("page %s missing", name)
		}
	}
}

func TestBrokenTemplatesFailAtStartUp(t *testing.T) {
	layout := &fstest.MapFile{Data: []byte(`{{define "layout"}}<html>{{template "content" .}}</html>{{end}}`)}
	good := &fstest.MapFile{Data: []byte(`{{define "content"}}ok{{end}}`)}
	tests := map[string]fstest.MapFS{
		"syntax error": {"templates/layout.html": layout, "templates/login.html": &fstest.MapFile{Data: []byte(`{{define "content"}}{{.Title}{{end}}`)},
			"templates/error.html": good, "templates/logged_out.html": good},
		"missing page": {"templates/layout.html": layout, "templates/login.html": good, "templates/error.html": good},
		"no content":   {"templates/layout.html": layout, "templates/login.html": &fstest.MapFile{Data: []byte(`plain`)}, "templates/error.html": good, "templates/logged_out.html": good},
		"no layout":    {"templates/login.html": good, "templates/error.html": good, "templates/logged_out.html": good},
	}
	for name, fsys := range tests {
		if _, err := parsePages(fsys); err == nil {
			t.Errorf("%s: parsePages succeeded", name)
		}
	}
}

func TestNewRequiresDeps(t *testing.T) {
	if _, err := New(Deps{}); err == nil || !strings.Contains(err.Error(), "Store") {
		t.Errorf("New(Deps{}) = %v, want an error naming Store", err)
	}
}

// A template that fails while executing sends a plain 500, never half a page.
func TestRenderFailureSendsNoHalfPage(t *testing.T) {
	p, err := parsePages(fstest.MapFS{
		"templates/layout.html":         {Data: []byte(`{{define "layout"}}<p>start</p>{{template "content" .}}{{end}}`)},
		"templates/login.html":          {Data: []byte(`{{define "content"}}{{.Missing}}{{end}}`)},
		"templates/error.html":          {Data: []byte(`{{define "content"}}{{end}}`)},
		"templates/logged_out.html":     {Data: []byte(`{{define "content"}}{{end}}`)},
		"templates/other_browser.html":  {Data: []byte(`{{define "content"}}{{end}}`)},
		"templates/continue.html":       {Data: []byte(`{{define "content"}}{{end}}`)},
		"templates/confirm_logout.html": {Data: []byte(`{{define "content"}}{{end}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{pages: p, log: discardLogger()}
	rec := httptest.NewRecorder()
	h.render(rec, httptest.NewRequest("GET", "/login", nil), 200, pageLogin, struct{}{})
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "start") || strings.Contains(rec.Body.String(), "Missing") {
		t.Errorf("status %d body %q", rec.Code, rec.Body.String())
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
