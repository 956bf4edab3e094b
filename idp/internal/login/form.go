package login

import (
	"strings"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// loginForm is the data of the sign-in page.
type loginForm struct {
	Title         string
	ClientName    string
	AuthRequestID string
	Email         string
	// FormError concerns the whole form (wrong credentials, locked);
	// EmailError and PasswordError sit next to their field.
	FormError     string
	EmailError    string
	PasswordError string
}

func newLoginForm(req storage.AuthRequest, c storage.Client, email string) loginForm {
	return loginForm{Title: titleSignIn, ClientName: c.Name, AuthRequestID: req.ID, Email: email}
}

// fail shows msg for the whole form (wrong credentials, locked).
func (f *loginForm) fail(msg string) {
	f.FormError = msg
	f.Title = titleSignInError
}

// Focus names the field that gets autofocus: the first one that is empty
// or has an error.
func (f loginForm) Focus() string {
	if f.EmailError != "" || f.Email == "" {
		return "email"
	}
	return "password"
}

// EmailDescribedBy is the email input's aria-describedby.
func (f loginForm) EmailDescribedBy() string { return f.describedBy(f.EmailError, "email-error") }

// PasswordDescribedBy is the password input's aria-describedby.
func (f loginForm) PasswordDescribedBy() string {
	return f.describedBy(f.PasswordError, "password-error")
}

func (f loginForm) describedBy(fieldErr, fieldErrID string) string {
	var ids []string
	if f.FormError != "" {
		ids = append(ids, "form-error")
	}
	if fieldErr != "" {
		ids = append(ids, fieldErrID)
	}
	return strings.Join(ids, " ")
}

// checkFilled sets the field errors for empty fields and reports whether
// both are filled.
func (f *loginForm) checkFilled(password string) bool {
	if f.Email == "" {
		f.EmailError = msgEmailMissing
	}
	if password == "" {
		f.PasswordError = msgPasswordEmpty
	}
	if f.EmailError != "" || f.PasswordError != "" {
		f.Title = titleSignInError
		return false
	}
	return true
}
