package idptest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/html"
)

// Browser plays the system browser for the app's sign-in: an HTTP client
// with a cookie jar that follows redirects and fills in what the provider
// shows. It knows nothing of the provider's pages beyond HTML forms:
//
//   - a form with a password field gets Email and Password (once per
//     Open: shown again, the sign-in was refused);
//   - a form with a submit button and no password field (a "Continue as
//     …" confirmation) is submitted as is;
//   - a page without a form, or the app's loopback callback, ends Open.
//
// Open has the signature of the app's browser opener.
type Browser struct {
	Email, Password string

	client *http.Client

	mu     sync.Mutex
	last   Page
	opened []*url.URL
	forms  []string // "password" or "confirm", per form submitted
}

// Page is the last page a Browser saw.
type Page struct {
	URL    *url.URL
	Status int
	Body   string
}

// NewBrowser returns a browser that signs in as email.
func NewBrowser(email, password string) *Browser {
	jar, _ := cookiejar.New(nil) // never fails with nil options
	return &Browser{Email: email, Password: password, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// Last is the last page Open ended on.
func (b *Browser) Last() Page {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// Opened lists every URL Open was called with.
func (b *Browser) Opened() []*url.URL {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*url.URL(nil), b.opened...)
}

// Forms lists the forms Open submitted, in order: "password" for a
// sign-in form, "confirm" for one without a password field.
func (b *Browser) Forms() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.forms...)
}

// ErrRefused: the sign-in form came back after the password was sent.
var ErrRefused = errors.New("idptest: the provider showed the sign-in form again")

// Open visits u and works through the pages that follow.
func (b *Browser) Open(u *url.URL) error {
	b.mu.Lock()
	b.opened = append(b.opened, u)
	b.mu.Unlock()
	page, err := b.do(http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	sentPassword := false
	for range 10 {
		f, ok := pickForm(page)
		if !ok {
			return nil
		}
		vals := f.values()
		kind := "confirm"
		if f.hasPassword {
			kind = "password"
		}
		b.mu.Lock()
		b.forms = append(b.forms, kind)
		b.mu.Unlock()
		if f.hasPassword {
			if sentPassword {
				return fmt.Errorf("%w: %s", ErrRefused, errorText(page.Body))
			}
			sentPassword = true
			vals.Set(f.passwordName, b.Password)
			if f.emailName != "" {
				vals.Set(f.emailName, b.Email)
			}
		}
		target, err := page.URL.Parse(f.action)
		if err != nil {
			return fmt.Errorf("idptest: form action %q: %w", f.action, err)
		}
		if page, err = b.do(f.method, target.String(), vals); err != nil {
			return err
		}
	}
	return errors.New("idptest: too many forms in a row")
}

func (b *Browser) do(method, u string, form url.Values) (Page, error) {
	var req *http.Request
	var err error
	if method == http.MethodPost {
		req, err = http.NewRequest(method, u, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		if form != nil {
			u += "?" + form.Encode()
		}
		req, err = http.NewRequest(method, u, nil)
	}
	if err != nil {
		return Page{}, fmt.Errorf("idptest: %s %s: %w", method, u, err)
	}
	req.Header.Set("Accept", "text/html")
	resp, err := b.client.Do(req)
	if err != nil {
		return Page{}, fmt.Errorf("idptest: %s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Page{}, fmt.Errorf("idptest: %s %s: %w", method, u, err)
	}
	p := Page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(body)}
	b.mu.Lock()
	b.last = p
	b.mu.Unlock()
	return p, nil
}

// form is one HTML form of a page.
type form struct {
	action, method string
	fields         [][2]string // name, value of the non-password inputs, in order
	submit         [2]string   // the first submit button's name and value
	hasSubmit      bool
	hasPassword    bool
	passwordName   string
	emailName      string // the text input named or typed email/username
}

func (f form) values() url.Values {
	v := url.Values{}
	for _, kv := range f.fields {
		v.Add(kv[0], kv[1])
	}
	if f.hasSubmit && f.submit[0] != "" {
		v.Set(f.submit[0], f.submit[1])
	}
	return v
}

// pickForm chooses what to fill in: the sign-in form if there is one,
// else the first form with a submit button.
func pickForm(p Page) (form, bool) {
	forms := parseForms(p.Body)
	for _, f := range forms {
		if f.hasPassword {
			return f, true
		}
	}
	for _, f := range forms {
		if f.hasSubmit {
			return f, true
		}
	}
	return form{}, false
}

func parseForms(body string) []form {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return nil
	}
	var forms []form
	var cur *form
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				forms = append(forms, form{action: attr(n, "action"), method: strings.ToUpper(attr(n, "method"))})
				cur = &forms[len(forms)-1]
				if cur.method == "" {
					cur.method = http.MethodGet
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
				cur = nil
				return
			case "input":
				if cur != nil {
					addInput(cur, n)
				}
			case "button":
				if cur != nil && !cur.hasSubmit && (attr(n, "type") == "" || attr(n, "type") == "submit") {
					cur.hasSubmit = true
					cur.submit = [2]string{attr(n, "name"), attr(n, "value")}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return forms
}

func addInput(f *form, n *html.Node) {
	name, typ := attr(n, "name"), strings.ToLower(attr(n, "type"))
	switch typ {
	case "password":
		f.hasPassword, f.passwordName = true, name
		return
	case "submit":
		if !f.hasSubmit {
			f.hasSubmit = true
			f.submit = [2]string{name, attr(n, "value")}
		}
		return
	case "checkbox", "radio":
		if _, checked := attrOK(n, "checked"); !checked {
			return
		}
	case "email":
		f.emailName = name
	case "", "text":
		if name == "email" || name == "username" || attr(n, "autocomplete") == "username" {
			f.emailName = name
		}
	}
	if name != "" {
		f.fields = append(f.fields, [2]string{name, attr(n, "value")})
	}
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// errorText is the text of the page's alert, if any, for error messages.
func errorText(body string) string {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return ""
	}
	var out string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if out != "" {
			return
		}
		if n.Type == html.ElementNode && attr(n, "role") == "alert" {
			var sb strings.Builder
			var text func(*html.Node)
			text = func(c *html.Node) {
				if c.Type == html.TextNode {
					sb.WriteString(c.Data)
				}
				for d := c.FirstChild; d != nil; d = d.NextSibling {
					text(d)
				}
			}
			text(n)
			out = strings.TrimSpace(sb.String())
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}
