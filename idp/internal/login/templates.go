package login

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Page names: one template file each, rendered inside layout.html.
const (
	pageLogin        = "login.html"
	pageError        = "error.html"
	pageLoggedOut    = "logged_out.html"
	pageOtherBrowser = "other_browser.html"
	pageContinue     = "continue.html"
	pageConfirmOut   = "confirm_logout.html"
)

var pageNames = []string{pageLogin, pageError, pageLoggedOut, pageOtherBrowser, pageContinue, pageConfirmOut}

// pages holds every page parsed at start-up, so a broken template stops the
// binary from starting instead of failing a user's request.
type pages map[string]*template.Template

func parsePages(fsys fs.FS) (pages, error) {
	return parsePageSet(fsys, pageNames)
}

// parsePageSet parses the pages names, each with the layout and the
// partials (template files of shared definitions) given.
func parsePageSet(fsys fs.FS, names []string, partials ...string) (pages, error) {
	p := pages{}
	for _, name := range names {
		files := append([]string{"templates/layout.html"}, partials...)
		t, err := template.New(name).ParseFS(fsys, append(files, "templates/"+name)...)
		if err != nil {
			return nil, fmt.Errorf("login: parsing template %s: %w", name, err)
		}
		if t.Lookup("layout") == nil || t.Lookup("content") == nil {
			return nil, fmt.Errorf("login: template %s must define \"content\" for the layout", name)
		}
		p[name] = t
	}
	return p, nil
}

// render executes page into a buffer, so that a template error never sends
// half a page, and writes it with status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		h.log.ErrorContext(r.Context(), "login: rendering page", "page", page, "err", err)
		writeHeaders(w)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(msgInternal + "\n"))
		return
	}
	writeHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeHeaders sets what every page needs whoever serves it: pages carry
// auth request ids and form data, so they are never cached and never sent
// as a referrer. (The server adds CSP and framing headers to everything.)
func writeHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
}

// staticHandler serves the embedded stylesheet under /static/. Directory
// listings are not served.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory exists
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/static/" || p[len(p)-1] == '/' {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
