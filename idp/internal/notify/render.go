package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"
)

// Product is the name every email shows.
const Product = "CliniConnects"

// Kinds of email. Each has a plain-text and an HTML template under
// templates/, and a subject defined in the plain-text one.
const (
	// KindInvitation invites a new user to set a password. Needs Link,
	// Expires and ExpiresAt.
	KindInvitation = "invitation"
	// KindPasswordReset carries a password reset link. Needs Link, Expires
	// and ExpiresAt.
	KindPasswordReset = "password_reset"
	// KindPasswordChanged confirms a password change or reset. No link.
	KindPasswordChanged = "password_changed"
	// KindEmailChangeVerify goes to the NEW address with a link that
	// confirms it. Needs Link, Expires and ExpiresAt; NewEmail is shown
	// when set.
	KindEmailChangeVerify = "email_change_verify"
	// KindEmailChangeNotice tells the OLD address that the login email is
	// being changed to NewEmail. No link. Needs NewEmail.
	KindEmailChangeNotice = "email_change_notice"
	// KindEmailChanged tells the OLD address that an administrator has
	// changed the login email to NewEmail and signed the user out. No link.
	// Needs NewEmail.
	KindEmailChanged = "email_changed"
	// KindEmailInUse goes instead of KindEmailChangeVerify when the address
	// asked for already belongs to an account: its owner learns that, the
	// one who asked learns nothing. No link.
	KindEmailInUse = "email_in_use"
	// KindPhoneChanged tells a clinician that their mobile number changed
	// to Phone (shown by its last digits only) and what that did to the
	// mobile app. No link. Needs Phone.
	KindPhoneChanged = "phone_changed"
	// KindMFAEnabled tells the user that an authenticator app now guards
	// their sign-in. No link.
	KindMFAEnabled = "mfa_enabled"
	// KindMFARemoved tells the user that they turned two-step sign-in off.
	// No link.
	KindMFARemoved = "mfa_removed"
	// KindMFAReset tells the user that an administrator turned their
	// two-step sign-in off. No link.
	KindMFAReset = "mfa_reset"
	// KindMFARecoveryUsed tells the user that one of their recovery codes
	// was used to sign in. No link.
	KindMFARecoveryUsed = "mfa_recovery_used"
)

// Kinds lists every kind Render knows.
var Kinds = []string{KindInvitation, KindPasswordReset, KindPasswordChanged, KindEmailChangeVerify, KindEmailChangeNotice,
	KindEmailChanged, KindEmailInUse, KindPhoneChanged,
	KindMFAEnabled, KindMFARemoved, KindMFAReset, KindMFARecoveryUsed}

// Email is one rendered message. Render fills Subject, Text and HTML; the
// caller sets To (the recipient's address) before enqueueing it.
type Email struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"` // the plain-text part
	HTML    string `json:"html"` // the HTML part; may be empty
}

// LogValue keeps the parts, which may carry a link with a one-time secret,
// out of logs.
func (e Email) LogValue() slog.Value {
	return slog.GroupValue(slog.String("to", e.To), slog.String("subject", e.Subject))
}

// Data is what the templates show.
type Data struct {
	Name     string // the recipient's display name; "" greets without one; line breaks become spaces
	Link     string // absolute http(s) URL under the issuer; for the kinds with a link
	NewEmail string // the new login email of an email change
	Phone    string // the new mobile number of a phone change (E.164)
	// Expires is the link's lifetime, shown as "30 minutes", "7 days";
	// ExpiresAt the moment it ends, shown in UTC.
	Expires   time.Duration
	ExpiresAt time.Time
}

// kindSpec says what a kind needs from Data.
type kindSpec struct {
	link     bool // Link, Expires and ExpiresAt are required
	newEmail bool // NewEmail is required
	phone    bool // Phone is required
}

var kindSpecs = map[string]kindSpec{
	KindInvitation:        {link: true},
	KindPasswordReset:     {link: true},
	KindPasswordChanged:   {},
	KindEmailChangeVerify: {link: true},
	KindEmailChangeNotice: {newEmail: true},
	KindEmailChanged:      {newEmail: true},
	KindEmailInUse:        {},
	KindPhoneChanged:      {phone: true},
	KindMFAEnabled:        {},
	KindMFARemoved:        {},
	KindMFAReset:          {},
	KindMFARecoveryUsed:   {},
}

//go:embed templates
var templateFS embed.FS

// kindTemplates are one kind's parsed templates.
type kindTemplates struct {
	text *texttemplate.Template // executes to the text part; defines "subject"
	html *htmltemplate.Template // executes "layout" to the HTML part
}

// templates are parsed when the package initializes: a broken template
// stops the program at start-up, never at the first email.
var templates = mustParseTemplates()

func mustParseTemplates() map[string]kindTemplates {
	t, err := parseTemplates()
	if err != nil {
		panic(err)
	}
	return t
}

func parseTemplates() (map[string]kindTemplates, error) {
	textBase, err := texttemplate.New("common.txt").ParseFS(templateFS, "templates/common.txt")
	if err != nil {
		return nil, fmt.Errorf("notify: parsing email templates: %w", err)
	}
	htmlBase, err := htmltemplate.New("layout.html").Funcs(htmlFuncs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("notify: parsing email templates: %w", err)
	}
	out := make(map[string]kindTemplates, len(Kinds))
	for _, kind := range Kinds {
		tt, err := texttemplate.Must(textBase.Clone()).New(kind+".txt").ParseFS(templateFS, "templates/"+kind+".txt")
		if err != nil {
			return nil, fmt.Errorf("notify: parsing %s email template: %w", kind, err)
		}
		if tt.Lookup("subject") == nil {
			return nil, fmt.Errorf("notify: %s.txt defines no subject", kind)
		}
		ht, err := htmltemplate.Must(htmlBase.Clone()).ParseFS(templateFS, "templates/"+kind+".html")
		if err != nil {
			return nil, fmt.Errorf("notify: parsing %s email template: %w", kind, err)
		}
		if ht.Lookup("content") == nil {
			return nil, fmt.Errorf("notify: %s.html defines no content", kind)
		}
		out[kind] = kindTemplates{text: tt.Lookup(kind + ".txt"), html: ht.Lookup("layout")}
	}
	return out, nil
}

// htmlFuncs are the helpers of the HTML templates.
var htmlFuncs = htmltemplate.FuncMap{
	// button makes the argument of the "button" template.
	"button": func(link, label string) map[string]string {
		return map[string]string{"Link": link, "Label": label}
	},
}

// view is what the templates see.
type view struct {
	Product  string
	Name     string
	Link     string
	NewEmail string
	// PhoneEnding is the last four digits of Data.Phone: an email may be
	// read by others, so it never shows a whole number.
	PhoneEnding string
	ExpiresIn   string // "30 minutes"
	ExpiresAt   string // "Monday 2 January 2006, 15:04 UTC"
}

// Render renders the email of kind from d. Subject, Text and HTML are set;
// To is left for the caller. A kind that needs a link fails without an
// absolute http(s) Link, a positive Expires and an ExpiresAt.
func Render(kind string, d Data) (Email, error) {
	kt, ok := templates[kind]
	if !ok {
		return Email{}, fmt.Errorf("notify: unknown email kind %q", kind)
	}
	if err := check(kind, d); err != nil {
		return Email{}, err
	}
	// Runs of white space (a line break in a name, say) become one space.
	v := view{Product: Product, Name: strings.Join(strings.Fields(d.Name), " "), Link: d.Link, NewEmail: d.NewEmail,
		PhoneEnding: phoneEnding(d.Phone)}
	if kindSpecs[kind].link {
		v.ExpiresIn = HumanDuration(d.Expires)
		v.ExpiresAt = d.ExpiresAt.UTC().Format("Monday 2 January 2006, 15:04 UTC")
	}
	var subject, text, html bytes.Buffer
	if err := kt.text.ExecuteTemplate(&subject, "subject", v); err != nil {
		return Email{}, fmt.Errorf("notify: rendering %s subject: %w", kind, err)
	}
	if err := kt.text.Execute(&text, v); err != nil {
		return Email{}, fmt.Errorf("notify: rendering %s text: %w", kind, err)
	}
	if err := kt.html.Execute(&html, v); err != nil {
		return Email{}, fmt.Errorf("notify: rendering %s HTML: %w", kind, err)
	}
	return Email{
		Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text:    strings.Trim(text.String(), "\n") + "\n",
		HTML:    html.String(),
	}, nil
}

func check(kind string, d Data) error {
	spec := kindSpecs[kind]
	if spec.link {
		u, err := url.Parse(d.Link)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("notify: %s needs an absolute http(s) link", kind)
		}
		if d.Expires <= 0 || d.ExpiresAt.IsZero() {
			return fmt.Errorf("notify: %s needs Expires and ExpiresAt", kind)
		}
	}
	if spec.newEmail && d.NewEmail == "" {
		return fmt.Errorf("notify: %s needs NewEmail", kind)
	}
	if spec.phone && len(d.Phone) < 5 {
		return fmt.Errorf("notify: %s needs Phone", kind)
	}
	return nil
}

// phoneEnding is the last four characters of phone, "" for a shorter one.
func phoneEnding(phone string) string {
	if len(phone) < 5 {
		return ""
	}
	return phone[len(phone)-4:]
}

// HumanDuration writes d the way the emails say it: "30 minutes", "1 hour",
// "24 hours", "7 days", "1 hour 30 minutes". Whole days are used from two
// days up; anything under a minute reads "less than a minute".
func HumanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	if d <= 0 {
		return "less than a minute"
	}
	const day = 24 * time.Hour
	if d >= 2*day && d%day == 0 {
		return plural(int(d/day), "day")
	}
	var parts []string
	if h := int(d / time.Hour); h > 0 {
		parts = append(parts, plural(h, "hour"))
	}
	if m := int(d % time.Hour / time.Minute); m > 0 {
		parts = append(parts, plural(m, "minute"))
	}
	return strings.Join(parts, " ")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
